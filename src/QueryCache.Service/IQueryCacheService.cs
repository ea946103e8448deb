namespace QueryCache;

/// <summary>The semantic query cache: check before the RAG pipeline, add after it.</summary>
public interface IQueryCacheService
{
    /// <summary>
    /// The nearest live entry of <paramref name="scope"/> whose cosine similarity to <paramref name="embedding"/> is at
    /// least the threshold (<paramref name="similarityThreshold"/>, else the tenant's, else the global one); null on a miss.
    /// </summary>
    Task<CacheHit?> CheckCacheAsync(ReadOnlyMemory<float> embedding, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Looks <paramref name="question"/> up: first by its normalized text (no embedding call), then by the embedding of
    /// the registered <c>IEmbeddingGenerator</c>; a candidate must also pass the lexical guard and, in the grey zone, the verifier.
    /// </summary>
    Task<CacheHit?> CheckCacheAsync(string question, CacheScope scope,
        double? similarityThreshold = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The full lookup: the hit, or why it missed and how close the nearest entry came (one scan either way). Give
    /// <see cref="CacheQuery.Question"/> so the guard and the verifier can check the candidate.
    /// </summary>
    Task<CacheLookupResult> LookupAsync(CacheQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The cached answer to <paramref name="question"/>, or else the answer <paramref name="answerFactory"/> produces (your
    /// RAG pipeline), stored for next time. Concurrent misses for the same question and scope in this process share one
    /// call of the factory (single flight). The factory runs on a token of its own, cancelled only when every caller
    /// waiting for it has given up; a caller's <paramref name="cancellationToken"/> ends only that caller's wait. A factory
    /// that throws stores nothing and its exception reaches every waiting caller.
    /// </summary>
    Task<CachedAnswer> GetOrAddAsync(string question, CacheScope scope, Func<CancellationToken, Task<string>> answerFactory,
        double? similarityThreshold = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The general get-or-add: the cache's hit for <paramref name="query"/> (its question is required), or else what
    /// <paramref name="pipeline"/> produces, whose answer (<paramref name="answerToStore"/>; null: not to be cached, an
    /// error or a tool call, say) is stored for next time. Concurrent misses of the same scope, question, threshold and
    /// <typeparamref name="T"/> share one run of the pipeline, in the process and across instances, after one more look
    /// on the primary (which does not count as a lookup). The whole lookup has <see cref="QueryCacheOptions.LookupTimeout"/>;
    /// with <see cref="QueryCacheOptions.FailOpen"/> a failed lookup is a miss and a failed store is dropped with a warning.
    /// </summary>
    Task<CacheResult<T>> GetOrAddAsync<T>(CacheQuery query, Func<CancellationToken, Task<T>> pipeline, Func<T, string?> answerToStore,
        TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores an answered question and returns its entry id; 0 when it was not stored: refused by the admission policy
    /// (a time-relative question, by default), or dropped after a database failure with fail-open on.
    /// </summary>
    Task<long> AddToCacheAsync(CacheEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry of a tenant; returns how many went.</summary>
    Task<int> InvalidateTenantAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Erases a user of a tenant: their private entries and the shared entries made from their questions (questions,
    /// answers and vectors), and records it so a later backfill does not bring their earlier questions back. Returns how many went.
    /// </summary>
    Task<int> InvalidateUserAsync(string tenantId, string userId, CancellationToken cancellationToken = default);

    /// <summary>Removes the entries made from any of these user or assistant messages; returns how many went.</summary>
    Task<int> InvalidateMessagesAsync(IEnumerable<Guid> messageIds, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry, for example after a system prompt change; returns how many went.</summary>
    Task<int> InvalidateAllAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Shares an entry that waits for corroboration (<see cref="CacheConfig.ShareAfterAskers"/>) with its whole tenant now:
    /// the approval of your verifier or moderator. Returns false when the entry is gone or was not waiting.
    /// </summary>
    Task<bool> ApproveSharingAsync(string tenantId, long entryId, CancellationToken cancellationToken = default);

    /// <summary>Figures of one tenant, or of the whole cache when <paramref name="tenantId"/> is null.</summary>
    Task<CacheStats> GetCacheStatsAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>The settings in force for a tenant, or the global settings when <paramref name="tenantId"/> is null.</summary>
    Task<CacheConfig> GetConfigAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>Changes the global settings, or a tenant's overrides. Every app instance sees the change on its next lookup.</summary>
    Task UpdateConfigAsync(CacheConfigUpdate update, string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a tenant's overrides, so it follows the global settings again.</summary>
    Task ResetConfigAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs the backfill here and now: caches every answered question of the app's history not cached yet, and returns
    /// how many entries it added. Resumes an interrupted run; throws <see cref="QueryCacheJobBusyException"/> when a
    /// backfill is already running anywhere against this database.
    /// </summary>
    Task<int> PopulateFromExistingAsync(CancellationToken cancellationToken = default);

    /// <summary>The backfill limited to a tenant and/or a date range; reports its figures after each batch and returns the final ones.</summary>
    Task<QueryCacheJobStatus> PopulateFromExistingAsync(BackfillRequest request, IProgress<QueryCacheJobStatus>? progress = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs the cleanup here and now (expired entries, then the size caps); returns the run's figures.</summary>
    Task<QueryCacheJobStatus> CleanupAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Builds an HNSW graph of the tenant's entries alone (a partial index, <c>CREATE INDEX CONCURRENTLY</c>: lookups and
    /// stores go on; minutes for 100,000 entries), which the tenant's lookups then walk instead of filtering the shared
    /// graph. Worth it for a tenant with a large share of the entries (a tenth or more): its walk reads none of the other
    /// tenants' rows (measured: about 0.85–0.9 of the time at the same decisions for a tenant of 45 %). Costs the graph's
    /// size again for the tenant's entries and a second graph insert per indexed entry. Returns false when the tenant
    /// already has one (drop it first to build another kind). See docs/performance.md.
    /// </summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="prefixDimensions">
    /// Null: a graph of the whole embeddings. A count: a graph of their first <paramref name="prefixDimensions"/>
    /// dimensions, whose nearest entries each lookup re-ranks on all of them (the similarity returned stays exact). For a
    /// model trained to be truncated (OpenAI's text-embedding-3, nomic-embed, other Matryoshka models), whose leading
    /// dimensions rank nearly as well as all of them: each step of the walk reads a smaller element, so the walk costs
    /// less at the same ef_search (measured: 256 of 1536 dimensions, about half the whole graph's time and no hard-band
    /// decision lost). For a model not trained for it (all-MiniLM-L6-v2), compare with the whole graph on your data first.
    /// 1 to the embeddings' dimensions − 1.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<bool> BuildTenantGraphAsync(string tenantId, int? prefixDimensions = null, CancellationToken cancellationToken = default);

    /// <summary>Drops the tenant's own graph (<c>DROP INDEX CONCURRENTLY</c>); its lookups walk the shared graph again. Returns false when it had none.</summary>
    Task<bool> DropTenantGraphAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records what a user said of a served hit, as a label for the learned decision. A hit reported wrong is not
    /// served for that question again (and an entry reported wrong for its own question is removed). Returns false, and
    /// records nothing, when the entry is no longer in the cache.
    /// </summary>
    Task<bool> ReportAsync(CacheFeedback feedback, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps labelled candidates (hand-labelled pairs, e.g. from QueryCache.Evaluation's report) as labels for the learned
    /// decision: of one tenant, or of every tenant when <paramref name="tenantId"/> is null. Returns how many were kept.
    /// A label with empty or oversized text, or a similarity outside [-1, 1], is refused before anything is written.
    /// </summary>
    Task<int> AddLabelsAsync(IEnumerable<DecisionLabel> labels, string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fits the learned decision of a tenant (or the global one, from every label) at
    /// <see cref="QueryCacheOptions.MaxFalseHitRate"/> and puts it in force on every instance within 30 s. The cleanup job
    /// refits whatever has new labels; this is the on-demand way.
    /// </summary>
    Task<CacheDecision> FitDecisionAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>What decides a tenant's candidates (or the global fit's, with null), and the labels behind it.</summary>
    Task<CacheDecision> GetDecisionAsync(string? tenantId = null, CancellationToken cancellationToken = default);

    /// <summary>The current or last backfill (on any instance), null before the first.</summary>
    Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The current or last cleanup (on any instance), null before the first.</summary>
    Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default);
}
