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
    /// <summary>The name of the cache's meter (<c>System.Diagnostics.Metrics</c>), for every package of QueryCache.</summary>
    public const string MeterName = "QueryCache";

    private readonly CacheLookups _lookups;
    private readonly CacheWriter _writer;
    private readonly CacheAdministration _administration;
    private readonly HitRecorder _hits;
    private readonly MissCoordinator _misses;
    private readonly BackfillRun _backfill;
    private readonly CleanupRun _cleanup;
    private readonly DecisionStore _decisions;
    private readonly LabelRecorder _labels;
    private readonly AuditRunner _audits;
    private readonly JobStateStore _jobStates;
    private readonly IndexBuilds _indexBuilds;
    private readonly int _dimensions;
    // One single-flight table per kind of pipeline result: a chat response is not an answer's text.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object> _flights = new();

    internal QueryCacheService(CacheLookups lookups, CacheWriter writer, CacheAdministration administration, HitRecorder hits,
        MissCoordinator misses, BackfillRun backfill, CleanupRun cleanup, DecisionStore decisions, LabelRecorder labels, AuditRunner audits,
        JobStateStore jobStates, IndexBuilds indexBuilds, IOptions<QueryCacheOptions> options)
    {
        _indexBuilds = indexBuilds;
        _jobStates = jobStates;
        _decisions = decisions;
        _labels = labels;
        _audits = audits;
        _misses = misses;
        _lookups = lookups;
        _writer = writer;
        _administration = administration;
        _hits = hits;
        _backfill = backfill;
        _cleanup = cleanup;
        _dimensions = options.Value.Dimensions;
    }

    /// <inheritdoc />
    public async Task<CacheHit?> CheckCacheAsync(ReadOnlyMemory<float> embedding, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        var query = new CacheQuery
        {
            Scope = Check.Scope(scope),
            Embedding = Check.Embedding(embedding, _dimensions),
            SimilarityThreshold = Check.Threshold(similarityThreshold),
        };
        return (await _lookups.LookupAsync(query, cancellationToken).ConfigureAwait(false)).Hit;
    }

    /// <inheritdoc />
    public async Task<CacheHit?> CheckCacheAsync(string question, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default) =>
        (await _lookups.LookupAsync(TextQuery(question, scope, similarityThreshold), cancellationToken).ConfigureAwait(false)).Hit;

    /// <inheritdoc />
    public Task<CacheLookupResult> LookupAsync(CacheQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        Check.Scope(query.Scope);
        Check.OptionalIdentifier(query.AskedByUserId, "user id");
        Check.Threshold(query.SimilarityThreshold);
        if (query.Question is not null || query.Embedding.IsEmpty)
        {
            Check.Text(query.Question, "question", QueryCacheSchema.MaxQueryTextLength);
        }

        if (!query.Embedding.IsEmpty)
        {
            Check.Embedding(query.Embedding, _dimensions);
        }

        return _lookups.LookupAsync(query, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CachedAnswer> GetOrAddAsync(string question, CacheScope scope, Func<CancellationToken, Task<string>> answerFactory,
        double? similarityThreshold = null, CancellationToken cancellationToken = default)
    {
        var result = await GetOrAddAsync(TextQuery(question, scope, similarityThreshold), answerFactory, answer => answer, null, cancellationToken)
            .ConfigureAwait(false);
        return result.Hit is { } hit ? CachedAnswer.From(hit) : new CachedAnswer { Answer = result.Value!, FromCache = false };
    }

    /// <inheritdoc />
    public async Task<CacheResult<T>> GetOrAddAsync<T>(CacheQuery query, Func<CancellationToken, Task<T>> pipeline, Func<T, string?> answerToStore,
        TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(answerToStore);
        Check.Scope(query.Scope);
        Check.OptionalIdentifier(query.AskedByUserId, "user id");
        Check.Text(query.Question, "question", QueryCacheSchema.MaxQueryTextLength);
        Check.Threshold(query.SimilarityThreshold);
        Check.TimeToLive(timeToLive);
        if (!query.Embedding.IsEmpty)
        {
            Check.Embedding(query.Embedding, _dimensions);
        }

        var first = await _lookups.LookupAsync(query, cancellationToken).ConfigureAwait(false);
        if (first.Hit is { } hit)
        {
            return _audits.ShouldAudit()
                ? new CacheResult<T> { Value = await _audits.RunAsync(query, hit, pipeline, answerToStore, cancellationToken).ConfigureAwait(false) }
                : new CacheResult<T> { Hit = hit };
        }

        var flights = (SingleFlight<FlightKey, CacheResult<T>>)_flights.GetOrAdd(typeof(T), _ => new SingleFlight<FlightKey, CacheResult<T>>());
        return await _misses.RunAsync(flights, query with { Embedding = first.Embedding }, h => new CacheResult<T> { Hit = h }, async (recheck, flightToken) =>
        {
            var value = await pipeline(flightToken).ConfigureAwait(false);
            if (answerToStore(value) is { } answer && !string.IsNullOrWhiteSpace(answer) && answer.Length <= QueryCacheSchema.MaxAnswerLength)
            {
                await _writer.AddAfterMissAsync(new CacheEntry
                {
                    Scope = query.Scope,
                    AskedByUserId = query.AskedByUserId,
                    QueryText = query.Question!,
                    Answer = answer,
                    Embedding = recheck.Embedding,
                    TimeToLive = timeToLive,
                }, flightToken).ConfigureAwait(false);
            }

            return new CacheResult<T> { Value = value };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<long> AddToCacheAsync(CacheEntry entry, CancellationToken cancellationToken = default) =>
        _writer.AddAsync(entry, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ApproveSharingAsync(string tenantId, long entryId, CancellationToken cancellationToken = default) =>
        _administration.ApproveSharingAsync(tenantId, entryId, cancellationToken);

    /// <inheritdoc />
    public Task<bool> BuildTenantGraphAsync(string tenantId, int? prefixDimensions = null, CancellationToken cancellationToken = default) =>
        _indexBuilds.BuildTenantGraphAsync(tenantId, prefixDimensions, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DropTenantGraphAsync(string tenantId, CancellationToken cancellationToken = default) =>
        _indexBuilds.DropTenantGraphAsync(tenantId, cancellationToken);

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
    public async Task<CacheStats> GetCacheStatsAsync(string? tenantId = null, CancellationToken cancellationToken = default)
    {
        // This process's pending hit counts belong in its own figures.
        await _hits.FlushAsync(cancellationToken).ConfigureAwait(false);
        return await _administration.GetStatsAsync(tenantId, cancellationToken).ConfigureAwait(false) with
        {
            LookupHits = _lookups.Hits,
            LookupMisses = _lookups.Misses,
        };
    }

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
    public async Task<QueryCacheJobStatus> CleanupAsync(CancellationToken cancellationToken = default)
    {
        // Eviction goes by last hit: this process's pending hits count.
        await _hits.FlushAsync(cancellationToken).ConfigureAwait(false);
        return await _cleanup.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default) =>
        _jobStates.ReadAsync(MaintenanceJob.Backfill, cancellationToken);

    /// <inheritdoc />
    public Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default) =>
        _jobStates.ReadAsync(MaintenanceJob.Cleanup, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ReportAsync(CacheFeedback feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        return _administration.ReportAsync(feedback with
        {
            Scope = Check.Scope(feedback.Scope),
            Question = Check.Text(feedback.Question, "question", QueryCacheSchema.MaxQueryTextLength),
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<int> AddLabelsAsync(IEnumerable<DecisionLabel> labels, string? tenantId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Check.OptionalIdentifier(tenantId, "tenant id");

        var kept = 0;
        var checkedLabels = labels.Select(l => new Label(tenantId, null,
            Check.Text(l.AskedQuestion, "asked question", QueryCacheSchema.MaxQueryTextLength),
            Check.Text(l.CachedQuestion, "cached question", QueryCacheSchema.MaxQueryTextLength),
            double.IsFinite(l.Similarity) && l.Similarity is >= -1 and <= 1
                ? l.Similarity
                : throw new ArgumentOutOfRangeException(nameof(labels), l.Similarity, "A label's similarity is a cosine similarity from -1 to 1."),
            l.SameAnswer, "pairs")).ToList();
        foreach (var batch in checkedLabels.Chunk(1000))
        {
            await _labels.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            kept += batch.Length;
        }

        return kept;
    }

    /// <inheritdoc />
    public Task<CacheDecision> FitDecisionAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        _decisions.FitAsync(tenantId is null ? null : Check.TenantId(tenantId), cancellationToken);

    /// <inheritdoc />
    public Task<CacheDecision> GetDecisionAsync(string? tenantId = null, CancellationToken cancellationToken = default) =>
        _decisions.DescribeAsync(tenantId is null ? null : Check.TenantId(tenantId), cancellationToken);

    /// <summary>
    /// Writes the batched hit counts now (<see cref="HitRecordingMode.Batched"/>; also done every
    /// <see cref="QueryCacheOptions.HitFlushInterval"/> and when the container is disposed).
    /// </summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the counts are written (or dropped after a failure).</returns>
    public Task FlushHitsAsync(CancellationToken cancellationToken = default) => _hits.FlushAsync(cancellationToken);

    private static CacheQuery TextQuery(string question, CacheScope scope, double? similarityThreshold) => new()
    {
        Scope = Check.Scope(scope),
        Question = Check.Text(question, "question", QueryCacheSchema.MaxQueryTextLength),
        SimilarityThreshold = Check.Threshold(similarityThreshold),
    };
}
