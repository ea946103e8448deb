using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>The read path: the exact-match and vector lookups, each bounded, measured and fail-open.</summary>
internal sealed class CacheLookups(
    CacheDataSource database,
    FailOpenExecutor executor,
    HitRecorder hits,
    QueryEmbedder embedder,
    QueryCacheMetrics metrics,
    IOptions<QueryCacheOptions> options,
    TimeProvider timeProvider,
    ILogger<CacheLookups> logger)
{
    private readonly QueryCacheOptions _options = options.Value;
    private long _hits;
    private long _misses;

    /// <summary>Lookups this process answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups this process missed.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The nearest entry of the scope at or above the threshold; arguments already checked.</summary>
    public Task<CacheHit?> ByVectorAsync(ReadOnlyMemory<float> embedding, CacheScope scope, double? threshold, CancellationToken cancellationToken) =>
        LookupAsync("vector", scope, CacheStatements.Lookup, new
        {
            Embedding = new Vector(embedding),
            scope.TenantId,
            scope.UserId,
            Model = _options.EmbeddingModel,
            Threshold = threshold,
            RecordHit = hits.InLookup,
        }, cancellationToken);

    /// <summary>
    /// The exact-match path (when enabled), then the vector path with <paramref name="embedding"/>, embedded here when
    /// empty. Returns the embedding it used, so a caller that stores the answer next does not embed the question again.
    /// </summary>
    public async Task<(CacheHit? Hit, ReadOnlyMemory<float> Embedding)> ByTextAsync(string question, CacheScope scope, double? threshold,
        ReadOnlyMemory<float> embedding, CancellationToken cancellationToken)
    {
        Log.LookupText(logger, scope.TenantId, question);
        if (_options.ExactMatch && await LookupAsync("exact", scope, CacheStatements.LookupExact, new
            {
                Hash = QueryText.Hash(question),
                scope.TenantId,
                scope.UserId,
                Model = _options.EmbeddingModel,
                RecordHit = hits.InLookup,
            }, cancellationToken).ConfigureAwait(false) is { } exact)
        {
            return (exact, embedding);
        }

        if (embedding.IsEmpty)
        {
            embedding = await embedder.EmbedAsync(question, cancellationToken).ConfigureAwait(false);
        }

        return (await ByVectorAsync(embedding, scope, threshold, cancellationToken).ConfigureAwait(false), embedding);
    }

    private async Task<CacheHit?> LookupAsync(string path, CacheScope scope, string sql, object parameters, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var hit = await executor.ExecuteAsync(CacheOperation.Lookup, scope.TenantId, async ct =>
        {
            using var connection = database.Primary.CreateConnection();
            return await connection.QuerySingleOrDefaultAsync<CacheHit>(new CommandDefinition(sql, parameters, cancellationToken: ct)).ConfigureAwait(false);
        }, null, cancellationToken).ConfigureAwait(false);

        if (hit is not null)
        {
            hits.Count(hit.EntryId);
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        metrics.Lookup(hit is not null, elapsed, path);
        Interlocked.Increment(ref hit is null ? ref _misses : ref _hits);
        Log.Lookup(logger, hit is null ? "miss" : "hit", scope.TenantId, path, elapsed.TotalMilliseconds, hit?.Similarity);
        return hit;
    }
}
