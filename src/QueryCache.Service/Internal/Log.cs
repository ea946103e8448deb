using Microsoft.Extensions.Logging;

namespace QueryCache.Internal;

/// <summary>
/// Source-generated log messages, event ids 1000-1999 (1000s lookups and stores, 1100s jobs). Question text is logged
/// only at Trace, answers never: both are user data.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Cache {Result} for tenant {TenantId} via {Path} in {ElapsedMs:F1} ms (nearest similarity {Similarity:F4}, miss reason {Reason}).")]
    public static partial void Lookup(ILogger logger, string result, string tenantId, string path, double elapsedMs, double? similarity, CacheMissReason? reason);

    [LoggerMessage(1001, LogLevel.Trace, "Cache lookup text for tenant {TenantId}: {Question}")]
    public static partial void LookupText(ILogger logger, string tenantId, string question);

    [LoggerMessage(1002, LogLevel.Warning, "Cache {Operation} failed for tenant {TenantId}; a lookup answers a miss and a store is dropped (fail-open).")]
    public static partial void Failed(ILogger logger, Exception exception, CacheOperation operation, string tenantId);

    [LoggerMessage(1003, LogLevel.Warning, "Cache {Operation} for tenant {TenantId} took longer than {TimeoutMs} ms; a lookup answers a miss and a store is dropped (fail-open).")]
    public static partial void TimedOut(ILogger logger, CacheOperation operation, string tenantId, double timeoutMs);

    [LoggerMessage(1004, LogLevel.Debug, "Cache {Operation} for tenant {TenantId} skipped: the database failed recently and is being left alone.")]
    public static partial void CircuitSkipped(ILogger logger, CacheOperation operation, string tenantId);

    [LoggerMessage(1005, LogLevel.Warning, "The cache database keeps failing; lookups miss and stores are dropped without calling it for {BreakMs} ms.")]
    public static partial void CircuitOpened(ILogger logger, double breakMs);

    [LoggerMessage(1006, LogLevel.Information, "The cache database answers again; lookups and stores use it.")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(1007, LogLevel.Warning, "The cache hit verifier failed for tenant {TenantId} (timed out: {TimedOut}); the candidate was refused (fail-closed).")]
    public static partial void VerifierFailed(ILogger logger, Exception exception, string tenantId, bool timedOut);

    [LoggerMessage(1010, LogLevel.Debug, "Stored cache entry {EntryId} for tenant {TenantId}.")]
    public static partial void Stored(ILogger logger, long entryId, string tenantId);

    [LoggerMessage(1011, LogLevel.Debug, "Not storing a question for tenant {TenantId}: the admission policy refused it ({Reason}).")]
    public static partial void StoreRefused(ILogger logger, string tenantId, string? reason);

    [LoggerMessage(1020, LogLevel.Information, "Invalidated {Count} cache entries ({Scope}).")]
    public static partial void Invalidated(ILogger logger, int count, string scope);

    [LoggerMessage(1030, LogLevel.Information, "Cache config updated for {Target}.")]
    public static partial void ConfigUpdated(ILogger logger, string target);

    [LoggerMessage(1100, LogLevel.Information, "Backfill started: {Processed} of {Total} pairs already done (resumed: {Resumed}).")]
    public static partial void BackfillStarted(ILogger logger, long processed, long total, bool resumed);

    [LoggerMessage(1101, LogLevel.Information, "Backfill: {Processed} of {Total} pairs read, {Added} cached, {Rate:F0} pairs/s, about {RemainingSeconds:F0} s left.")]
    public static partial void BackfillProgress(ILogger logger, long processed, long total, long added, double rate, double remainingSeconds);

    [LoggerMessage(1102, LogLevel.Warning, "The {Job} was interrupted after {Processed}; a backfill resumes from its checkpoint next time.")]
    public static partial void JobInterrupted(ILogger logger, string job, long processed);

    [LoggerMessage(1103, LogLevel.Warning, "Embedding a batch of {Count} questions failed; embedding them one by one.")]
    public static partial void EmbeddingBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(1104, LogLevel.Warning, "Embedding the question of user message {UserMessageId} failed; the pair is skipped.")]
    public static partial void EmbeddingFailed(ILogger logger, Exception exception, Guid userMessageId);

    [LoggerMessage(1110, LogLevel.Information, "Cleanup deleted {Deleted} cache entries.")]
    public static partial void CleanupFinished(ILogger logger, long deleted);

    [LoggerMessage(1111, LogLevel.Information, "Cleanup rebuilt the HNSW graphs in {Seconds:0.0} s, which is cheaper than VACUUM's repair after a large deletion.")]
    public static partial void IndexRebuilt(ILogger logger, double seconds);

    [LoggerMessage(1112, LogLevel.Information, "Built tenant {TenantId}'s own HNSW graph in {Seconds:0.0} s.")]
    public static partial void TenantGraphBuilt(ILogger logger, string tenantId, double seconds);

    [LoggerMessage(1120, LogLevel.Error, "The {Job} job failed.")]
    public static partial void JobFailed(ILogger logger, Exception exception, string job);

    [LoggerMessage(1121, LogLevel.Warning, "The end of the {Job} run could not be recorded; its status shows it as interrupted.")]
    public static partial void JobStateNotSaved(ILogger logger, Exception exception, string job);

    [LoggerMessage(1122, LogLevel.Information, "The {Job} job did not run: another run holds its lock.")]
    public static partial void JobBusy(ILogger logger, string job);

    [LoggerMessage(1300, LogLevel.Warning, "The read replica failed a lookup; lookups read the primary until it answers again.")]
    public static partial void StandbyFailed(ILogger logger, Exception exception);

    [LoggerMessage(1301, LogLevel.Information, "The read replica answers lookups again.")]
    public static partial void StandbyRecovered(ILogger logger);


    [LoggerMessage(1311, LogLevel.Warning, "The cross-instance lock for a question of tenant {TenantId} could not be taken; this instance answers it itself.")]
    public static partial void FlightLockFailed(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1320, LogLevel.Warning, "The in-process tier lost its notification connection; it is empty and unused until it reconnects.")]
    public static partial void LocalTierDisconnected(ILogger logger, Exception exception);

    [LoggerMessage(1321, LogLevel.Information, "The in-process tier listens for invalidations again.")]
    public static partial void LocalTierListening(ILogger logger);

    [LoggerMessage(1400, LogLevel.Warning, "{Count} labels for the learned decision were dropped (the database failed or too many were pending).")]
    public static partial void LabelsDropped(ILogger logger, Exception? exception, int count);

    [LoggerMessage(1401, LogLevel.Warning, "The learned decision of tenant {TenantId} could not be read; its lookups decide by threshold and guard meanwhile.")]
    public static partial void DecisionUnavailable(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(1402, LogLevel.Information, "Learned decision fitted for {Scope}: {Labels} labels, {Right} right; cutoff {Cutoff:0.000}, expected false-hit rate {Expected:P2}.")]
    public static partial void DecisionFitted(ILogger logger, string scope, int labels, int right, double cutoff, double expected);

    [LoggerMessage(1404, LogLevel.Warning, "The cleanup deleted {Deleted} entries but did not VACUUM or rebuild the index: its role does not own the cache's tables. Run VACUUM (ANALYZE) askwealth.query_cache_embeddings as the owner (a login role made by query_cache_grant_to has no such right, by design).")]
    public static partial void MaintenanceNotOwner(ILogger logger, long deleted);

    [LoggerMessage(1403, LogLevel.Warning, "An audit of tenant {TenantId} could not be judged; no label was recorded.")]
    public static partial void AuditFailed(ILogger logger, Exception exception, string tenantId);
}
