using Microsoft.Extensions.Logging;

namespace QueryCache.Internal;

/// <summary>Source-generated log messages, event ids 1000-1999. Question and answer text is never logged above Trace.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Cache {Result} for tenant {TenantId} via {Path} in {ElapsedMs:F1} ms (similarity {Similarity:F4}).")]
    public static partial void Lookup(ILogger logger, string result, string tenantId, string path, double elapsedMs, double? similarity);

    [LoggerMessage(1001, LogLevel.Trace, "Cache lookup text for tenant {TenantId}: {Question}")]
    public static partial void LookupText(ILogger logger, string tenantId, string question);

    [LoggerMessage(1002, LogLevel.Warning, "Cache lookup failed for tenant {TenantId}; answering as a miss (fail-open).")]
    public static partial void LookupFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1003, LogLevel.Warning, "Cache lookup for tenant {TenantId} took longer than {TimeoutMs} ms; answering as a miss (fail-open).")]
    public static partial void LookupTimedOut(ILogger logger, string tenantId, double timeoutMs);

    [LoggerMessage(1010, LogLevel.Debug, "Stored cache entry {EntryId} for tenant {TenantId}.")]
    public static partial void Stored(ILogger logger, long entryId, string tenantId);

    [LoggerMessage(1011, LogLevel.Warning, "Cache store failed for tenant {TenantId}; the entry was dropped (fail-open).")]
    public static partial void StoreFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1012, LogLevel.Warning, "Cache store for tenant {TenantId} took longer than {TimeoutMs} ms; the entry was dropped (fail-open).")]
    public static partial void StoreTimedOut(ILogger logger, string tenantId, double timeoutMs);

    [LoggerMessage(1020, LogLevel.Information, "Invalidated {Count} cache entries ({Scope}).")]
    public static partial void Invalidated(ILogger logger, int count, string scope);

    [LoggerMessage(1030, LogLevel.Information, "Cache config updated for {Target}.")]
    public static partial void ConfigUpdated(ILogger logger, string target);
}
