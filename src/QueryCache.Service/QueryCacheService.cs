using Microsoft.Extensions.Options;
using QueryCache.Internal;
using QueryCache.Jobs;

namespace QueryCache;

/// <summary>
/// The semantic query cache over PostgreSQL + pgvector. Thread-safe; register it with <c>AddQueryCache</c>.
/// Lookups and stores are fail-open (see <see cref="QueryCacheOptions.FailOpen"/>); invalidation, stats and config
/// changes report database errors to the caller.
/// </summary>
public sealed class QueryCacheService : IQueryCacheService
{
    private readonly CacheLookups _lookups;
    private readonly CacheWriter _writer;
    private readonly CacheAdministration _administration;
    private readonly HitRecorder _hits;
    private readonly BackfillRun _backfill;
    private readonly CleanupRun _cleanup;
    private readonly int _dimensions;
    private readonly SingleFlight<(string Tenant, string? User, string Question), CachedAnswer> _flights = new();

    internal QueryCacheService(CacheLookups lookups, CacheWriter writer, CacheAdministration administration, HitRecorder hits,
        BackfillRun backfill, CleanupRun cleanup, IOptions<QueryCacheOptions> options)
    {
        _lookups = lookups;
        _writer = writer;
        _administration = administration;
        _hits = hits;
        _backfill = backfill;
        _cleanup = cleanup;
        _dimensions = options.Value.Dimensions;
    }

    /// <inheritdoc />
    public Task<CacheHit?> CheckCacheAsync(ReadOnlyMemory<float> embedding, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default) =>
        _lookups.ByVectorAsync(Check.Embedding(embedding, _dimensions), Check.Scope(scope), Check.Threshold(similarityThreshold), cancellationToken);

    /// <inheritdoc />
    public async Task<CacheHit?> CheckCacheAsync(string question, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        CheckTextLookup(question, scope, similarityThreshold);
        return (await _lookups.ByTextAsync(question, scope, similarityThreshold, default, cancellationToken).ConfigureAwait(false)).Hit;
    }

    /// <inheritdoc />
    public async Task<CachedAnswer> GetOrAddAsync(string question, CacheScope scope, Func<CancellationToken, Task<string>> answerFactory,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answerFactory);
        CheckTextLookup(question, scope, similarityThreshold);
        var (hit, embedding) = await _lookups.ByTextAsync(question, scope, similarityThreshold, default, cancellationToken).ConfigureAwait(false);
        if (hit is not null)
        {
            return CachedAnswer.From(hit);
        }

        return await _flights.RunAsync((scope.TenantId, scope.UserId, QueryText.Normalize(question)), async flightToken =>
        {
            // A caller whose miss came just before another flight stored the answer finds it here instead of recomputing.
            var (stored, _) = await _lookups.ByTextAsync(question, scope, similarityThreshold, embedding, flightToken).ConfigureAwait(false);
            if (stored is not null)
            {
                return CachedAnswer.From(stored);
            }

            var answer = await answerFactory(flightToken).ConfigureAwait(false);
            await _writer.AddAsync(new CacheEntry { Scope = scope, QueryText = question, Answer = answer, Embedding = embedding }, flightToken)
                .ConfigureAwait(false);
            return new CachedAnswer { Answer = answer, FromCache = false };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<long> AddToCacheAsync(CacheEntry entry, CancellationToken cancellationToken = default) =>
        _writer.AddAsync(entry, cancellationToken);

    /// <inheritdoc />
    public Task<int> InvalidateTenantAsync(string tenantId, CancellationToken cancellationToken = default) =>
        _administration.InvalidateTenantAsync(tenantId, cancellationToken);

    /// <inheritdoc />
    public Task<int> InvalidateUserAsync(string tenantId, string userId, CancellationToken cancellationToken = default) =>
        _administration.EraseUserAsync(tenantId, userId, cancellationToken);

    /// <inheritdoc />
    public Task<int> InvalidateMessagesAsync(IEnumerable<Guid> messageIds, CancellationToken cancellationToken = default) =>
        _administration.InvalidateMessagesAsync(messageIds, cancellationToken);

    /// <inheritdoc />
    public Task<int> InvalidateAllAsync(CancellationToken cancellationToken = default) =>
        _administration.InvalidateAllAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<CacheStats> GetCacheStatsAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        await _administration.GetStatsAsync(tenantId, cancellationToken).ConfigureAwait(false) with
        {
            LookupHits = _lookups.Hits,
            LookupMisses = _lookups.Misses,
        };

    /// <inheritdoc />
    public Task<CacheConfig> GetConfigAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        _administration.GetConfigAsync(tenantId, cancellationToken);

    /// <inheritdoc />
    public Task UpdateConfigAsync(CacheConfigUpdate update, string? tenantId = null, CancellationToken cancellationToken = default) =>
        _administration.UpdateConfigAsync(update, tenantId, cancellationToken);

    /// <inheritdoc />
    public Task ResetConfigAsync(string tenantId, CancellationToken cancellationToken = default) =>
        _administration.ResetConfigAsync(tenantId, cancellationToken);

    /// <inheritdoc />
    public async Task<int> PopulateFromExistingAsync(CancellationToken cancellationToken = default) =>
        checked((int)(await _backfill.RunAsync(new BackfillRequest(), null, cancellationToken).ConfigureAwait(false)).Added);

    /// <inheritdoc />
    public Task<QueryCacheJobStatus> PopulateFromExistingAsync(BackfillRequest request, IProgress<QueryCacheJobStatus>? progress = null,
        CancellationToken cancellationToken = default) =>
        _backfill.RunAsync(request, progress, cancellationToken);

    /// <inheritdoc />
    public Task<QueryCacheJobStatus> CleanupAsync(CancellationToken cancellationToken = default) => _cleanup.RunAsync(cancellationToken);

    /// <summary>
    /// Writes the batched hit counts now (<see cref="HitRecordingMode.Batched"/>; also done every
    /// <see cref="QueryCacheOptions.HitFlushInterval"/> and when the container is disposed).
    /// </summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the counts are written (or dropped after a failure).</returns>
    public Task FlushHitsAsync(CancellationToken cancellationToken = default) => _hits.FlushAsync(cancellationToken);

    private static void CheckTextLookup(string question, CacheScope scope, double? similarityThreshold)
    {
        Check.Text(question, "question", QueryCacheSchema.MaxQueryTextLength);
        Check.Scope(scope);
        Check.Threshold(similarityThreshold);
    }
}
