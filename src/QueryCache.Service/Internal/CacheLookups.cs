using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pgvector;
using QueryCache.Correctness;

namespace QueryCache.Internal;

/// <summary>
/// The read path: the exact-match lookup (in-process tier, then database), then the nearest entry with the settings in
/// force (one round trip, on the standby when there is one), then the threshold, the guard and the verifier. Bounded, measured, fail-open; a served hit is handed to the hit recorder.
/// </summary>
internal sealed partial class CacheLookups(
    StandbyReads reads,
    LocalTier tier,
    FailOpenExecutor executor,
    HitRecorder hits,
    QueryEmbedder embedder,
    CandidateJudge judge,
    DecisionStore decisions,
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

    /// <summary>
    /// Looks <paramref name="query"/> up; its arguments are already checked. The whole lookup — the embedding included —
    /// has <see cref="QueryCacheOptions.LookupTimeout"/>: past it the caller has a miss (or, with fail-open off, a
    /// <see cref="TimeoutException"/>). <paramref name="primaryOnly"/> reads the primary even when there is a standby (to
    /// see a store made a moment ago); <paramref name="counted"/> false leaves it out of the lookup counters (a re-check).
    /// </summary>
    public async Task<CacheLookupResult> LookupAsync(CacheQuery query, CancellationToken cancellationToken, bool primaryOnly = false, bool counted = true)
    {
        query = AsAsker(query);
        var started = timeProvider.GetTimestamp();
        CacheLookupResult result;
        string path;
        using (var timeout = new CancellationTokenSource(_options.LookupTimeout, timeProvider))
        using (var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                (result, path) = await FailOpenExecutor.Abandonable(FindAsync(query, primaryOnly, budget.Token), budget.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                metrics.Error(CacheOperation.Lookup);
                Log.TimedOut(logger, CacheOperation.Lookup, query.Scope.TenantId, _options.LookupTimeout.TotalMilliseconds);
                if (!_options.FailOpen)
                {
                    throw new TimeoutException($"The lookup did not finish within LookupTimeout ({_options.LookupTimeout.TotalMilliseconds} ms), embedding included.");
                }

                (result, path) = (new CacheLookupResult { MissReason = CacheMissReason.Unavailable, Embedding = query.Embedding }, "timeout");
            }
            catch (Exception ex) when (_options.FailOpen && ex is not OperationCanceledException && !QueryEmbedder.IsNoGenerator(ex))
            {
                // Not the database (the executor answers for that): the embedding generator, say. A failed read is a miss.
                metrics.Error(CacheOperation.Lookup);
                Log.Failed(logger, ex, CacheOperation.Lookup, query.Scope.TenantId);
                (result, path) = (new CacheLookupResult { MissReason = CacheMissReason.Unavailable, Embedding = query.Embedding }, "failed");
            }
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        if (result.Hit is { } hit)
        {
            hits.Record(query.Scope.TenantId, hit.EntryId);
        }

        if (counted)
        {
            metrics.Lookup(result, elapsed, path);
            Interlocked.Increment(ref result.Hit is null ? ref _misses : ref _hits);
        }

        Log.Lookup(logger, result.Hit is null ? "miss" : "hit", query.Scope.TenantId, path, elapsed.TotalMilliseconds, result.NearestSimilarity,
            result.MissReason);
        return result;
    }

    private async Task<(CacheLookupResult Result, string Path)> FindAsync(CacheQuery query, bool primaryOnly, CancellationToken cancellationToken)
    {
        var scope = query.Scope;
        // Only a lookup that embeds beside the exact round trip needs a way to drop that embedding.
        using var embeddingCancel = query.Question is not null && query.Embedding.IsEmpty && _options.ExactMatch && _options.EmbedDuringExactMatch == true
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : null;
        Task<ReadOnlyMemory<float>>? embedding = null;
        // The normalized question's hash: the exact-match key, and what the vector search skips withdrawn entries by.
        byte[]? hash = null;
        if (query.Question is { } question)
        {
            Log.LookupText(logger, scope.TenantId, question);
            hash = QueryText.Hash(question);
            if (_options.ExactMatch)
            {
                if (tier.TryGetHit(scope, hash, out var remembered))
                {
                    return (ExactHit(remembered, query), "memory");
                }

                // With EmbedDuringExactMatch the embedding does not wait for the exact path's round trip: the two overlap,
                // and an exact hit drops it.
                embedding = embeddingCancel is null ? null : embedder.EmbedAsync(question, embeddingCancel.Token);
                CacheHit? exact;
                try
                {
                    exact = await FindExactAsync(scope, hash, primaryOnly, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await DropAsync(embedding, embeddingCancel).ConfigureAwait(false);
                    throw;
                }

                if (exact is not null)
                {
                    await DropAsync(embedding, embeddingCancel).ConfigureAwait(false);
                    return (ExactHit(exact, query), "exact");
                }
            }
        }

        var vector = !query.Embedding.IsEmpty ? query.Embedding
            : await (embedding ?? embedder.EmbedAsync(query.Question!, cancellationToken)).ConfigureAwait(false);
        var learned = query.Question is null ? null : await decisions.ForTenantAsync(scope.TenantId, cancellationToken).ConfigureAwait(false);
        var candidates = await CandidatesAsync(query.Scope, vector, hash, learned is null ? 1 : _options.DecisionCandidates, primaryOnly, cancellationToken)
            .ConfigureAwait(false);
        var nearest = candidates.FirstOrDefault();
        var threshold = query.SimilarityThreshold ?? nearest?.Threshold;
        var result = new CacheLookupResult
        {
            NearestSimilarity = nearest?.Similarity,
            NearestQueryText = nearest?.QueryText,
            Threshold = threshold,
            Embedding = vector,
        };
        return (learned is null
            ? await DecideAsync(query, nearest, threshold, result, cancellationToken).ConfigureAwait(false)
            : DecideLearned(query, candidates, learned.Decision, result), "vector");
    }

    /// <summary>The nearest entries, nearest first, without those withdrawn for the question; one row of settings when there are none.</summary>
    private async Task<List<Nearest>> CandidatesAsync(CacheScope scope, ReadOnlyMemory<float> embedding, byte[]? hash, int k, bool primaryOnly,
        CancellationToken cancellationToken) =>
        await ReadAsync(scope, primaryOnly, async (connection, token) => (await connection.QueryAsync<Nearest>(new CommandDefinition(
            CacheStatements.Candidates, new
            {
                Embedding = new Vector(embedding),
                scope.TenantId,
                scope.UserId,
                Model = _options.EmbeddingModel,
                Hash = hash,
                K = k,
            }, cancellationToken: token)).ConfigureAwait(false)).ToList(), [], cancellationToken).ConfigureAwait(false);

    private static CacheLookupResult ExactHit(CacheHit hit, CacheQuery query) =>
        new() { Hit = hit, NearestSimilarity = 1, NearestQueryText = hit.QueryText, Embedding = query.Embedding };

    /// <summary>Cancels an embedding no longer needed; its failure, if any, is observed and dropped.</summary>
    private static async Task DropAsync(Task? embedding, CancellationTokenSource? cancel)
    {
        if (embedding is null || cancel is null)
        {
            return;
        }

        await cancel.CancelAsync().ConfigureAwait(false);
        _ = embedding.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The entry of the same normalized question in the database (the caller has looked in the in-process tier).</summary>
    private async Task<CacheHit?> FindExactAsync(CacheScope scope, byte[] hash, bool primaryOnly, CancellationToken cancellationToken)
    {
        var generation = tier.Generation;
        var exact = await QueryAsync<Exact>(scope, CacheStatements.LookupExact, new
        {
            Hash = hash,
            scope.TenantId,
            scope.UserId,
            Model = _options.EmbeddingModel,
        }, primaryOnly, cancellationToken).ConfigureAwait(false);
        if (exact is null)
        {
            return null;
        }

        var hit = new CacheHit
        {
            EntryId = exact.EntryId,
            QueryText = exact.QueryText,
            Answer = exact.Answer,
            Similarity = exact.Similarity,
            UserMessageId = exact.UserMessageId,
            AssistantMessageId = exact.AssistantMessageId,
        };
        tier.AddHit(scope, hash, hit, DatabaseTime.ToOffset(exact.ExpiresAt), generation);
        return hit;
    }

    private Task<T?> QueryAsync<T>(CacheScope scope, string sql, object parameters, bool primaryOnly, CancellationToken cancellationToken)
        where T : class =>
        ReadAsync(scope, primaryOnly, (connection, token) =>
            connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: token)), null, cancellationToken);

    /// <summary>A read of the lookup: on the standby when there is one, bounded and fail-open (<paramref name="fallback"/>).</summary>
    private Task<T> ReadAsync<T>(CacheScope scope, bool primaryOnly, Func<System.Data.IDbConnection, CancellationToken, Task<T>> read, T fallback,
        CancellationToken cancellationToken) =>
        executor.ExecuteAsync(CacheOperation.Lookup, scope.TenantId, ct => reads.ReadAsync(async (source, token) =>
        {
            using var connection = source.CreateConnection();
            return await read(connection, token).ConfigureAwait(false);
        }, primaryOnly, ct), fallback, cancellationToken);

    /// <summary>The exact-match row: a hit and the entry's expiry.</summary>
    private sealed record Exact
    {
        public long EntryId { get; init; }
        public string QueryText { get; init; } = "";
        public string Answer { get; init; } = "";
        public double Similarity { get; init; }
        public Guid? UserMessageId { get; init; }
        public Guid? AssistantMessageId { get; init; }
        public DateTime? ExpiresAt { get; init; }
    }

    /// <summary>A candidate entry of the scope (none: null columns) and the tenant's settings in force, in one row.</summary>
    private sealed record Nearest
    {
        public long? EntryId { get; init; }
        public string? QueryText { get; init; }
        public string? Answer { get; init; }
        public double? Similarity { get; init; }
        public Guid? UserMessageId { get; init; }
        public Guid? AssistantMessageId { get; init; }
        public double Threshold { get; init; }
        public bool Enabled { get; init; }
        public bool GuardEnabled { get; init; }
        public string[] ContrastTerms { get; init; } = [];

        public CacheHit ToHit() => new()
        {
            EntryId = EntryId!.Value,
            QueryText = QueryText!,
            Answer = Answer!,
            Similarity = Similarity!.Value,
            UserMessageId = UserMessageId,
            AssistantMessageId = AssistantMessageId,
        };
    }
}
