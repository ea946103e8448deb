using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace QueryCache.AI;

/// <summary>The middleware's instruments, on the cache's meter <c>QueryCache</c>.</summary>
internal sealed class AIMetrics
{
    private readonly Counter<long> _chatRequests;
    private readonly Counter<long> _embeddings;

    public AIMetrics(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(QueryCacheService.MeterName) ?? new Meter(QueryCacheService.MeterName);
        _chatRequests = meter.CreateCounter<long>("querycache.chat.requests", "{request}",
            "Requests through the UseSemanticCache chat middleware, tagged querycache.result = hit | miss | bypass (with querycache.reason) and querycache.streaming.");
        _embeddings = meter.CreateCounter<long>("querycache.embeddings", "{embedding}",
            "Texts through the UseQueryCacheEmbeddings middleware, tagged querycache.result = hit | miss.");
    }

    public void ChatRequest(string result, bool streaming, string? reason = null)
    {
        var outcome = new KeyValuePair<string, object?>("querycache.result", result);
        var streamingTag = new KeyValuePair<string, object?>("querycache.streaming", streaming);
        if (reason is null)
        {
            _chatRequests.Add(1, outcome, streamingTag);
        }
        else
        {
            _chatRequests.Add(1, outcome, streamingTag, new KeyValuePair<string, object?>("querycache.reason", reason));
        }
    }

    public void Embeddings(int hits, int misses)
    {
        if (hits > 0)
        {
            _embeddings.Add(hits, new KeyValuePair<string, object?>("querycache.result", "hit"));
        }

        if (misses > 0)
        {
            _embeddings.Add(misses, new KeyValuePair<string, object?>("querycache.result", "miss"));
        }
    }
}

/// <summary>The middleware's log messages (event ids 1200–1299).</summary>
internal static partial class Log
{
    [LoggerMessage(1200, LogLevel.Warning, "The embedding cache did not store the vectors of model {Model}: the generator returned {Problem}.")]
    public static partial void EmbeddingsNotCached(ILogger logger, string model, string problem);

    [LoggerMessage(1210, LogLevel.Debug, "The semantic cache passed a chat request through uncached: {Reason}.")]
    public static partial void ChatBypassed(ILogger logger, string reason);

    [LoggerMessage(1211, LogLevel.Debug, "The semantic cache did not store a chat response: {Reason}.")]
    public static partial void ChatResponseNotCached(ILogger logger, string reason);

    [LoggerMessage(1212, LogLevel.Warning, "The semantic cache failed around a chat request, which went to the chat client instead.")]
    public static partial void ChatCacheFailed(ILogger logger, Exception exception);
}
