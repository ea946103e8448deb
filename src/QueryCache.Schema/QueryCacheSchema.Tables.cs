namespace QueryCache;

/// <content>The tables.</content>
public static partial class QueryCacheSchema
{
    /// <summary>Table <c>query_cache_config</c>: the global settings (tenant NULL) and per-tenant overrides.</summary>
    public static class Config
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_config";

        /// <summary>Surrogate key; the seeded global row is 1.</summary>
        public const string Id = "id";

        /// <summary>NULL for the global row, else the tenant whose overrides the row holds.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>Cosine similarity from 0 to 1 at or above which a cached question answers.</summary>
        public const string SimilarityThreshold = "similarity_threshold";

        /// <summary>False turns every lookup into a miss.</summary>
        public const string CacheEnabled = "cache_enabled";

        /// <summary>Entries the cleanup keeps: the whole cache's cap globally, the tenant's own per tenant.</summary>
        public const string MaxCacheEntries = "max_cache_entries";

        /// <summary>Lifetime of entries stored without one; NULL for no expiry.</summary>
        public const string DefaultTtl = "default_ttl";

        /// <summary>When the row last changed.</summary>
        public const string UpdatedAt = "updated_at";

        /// <summary>Whether the lexical guard checks candidate hits (on by default).</summary>
        public const string GuardEnabled = "guard_enabled";

        /// <summary>Terms that tell questions apart for the lexical guard (a tenant's products, say); NULL in a tenant's row inherits the global list.</summary>
        public const string ContrastTerms = "contrast_terms";

        /// <summary>
        /// How many distinct users must ask a question a new shared entry answers before it answers the whole tenant (1:
        /// at once); until then it answers only the user who asked. Global default 1.
        /// </summary>
        public const string ShareAfterAskers = "share_after_askers";

        /// <summary>Unique index: one global row and at most one row per tenant.</summary>
        public const string TenantIndex = "ux_query_cache_config_tenant";
    }

    /// <summary>Table <c>query_cache_embeddings</c>: one row per cached question and its answer.</summary>
    public static class Embeddings
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_embeddings";

        /// <summary>The entry id.</summary>
        public const string Id = "id";

        /// <summary>The tenant; always set, the isolation boundary.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>NULL when the entry is shared within its tenant, else the only user it answers.</summary>
        public const string UserId = "user_id";

        /// <summary>The user whose question this is, also for a shared entry; erasing that user removes it.</summary>
        public const string AskedBy = "asked_by";

        /// <summary>
        /// NULL for an entry shared (or private) from the start; <c>pending</c> while a shared entry waits for
        /// corroboration (private to <see cref="AskedBy"/> meanwhile), then <c>corroborated</c> or <c>approved</c>.
        /// </summary>
        public const string Sharing = "sharing";

        /// <summary>When a pending entry began to answer the whole tenant.</summary>
        public const string SharedAt = "shared_at";

        /// <summary>The partial index of the entries waiting for corroboration.</summary>
        public const string SharingPendingIndex = "ix_query_cache_embeddings_sharing_pending";

        /// <summary>The app's user message the entry came from; unique per embedding model.</summary>
        public const string UserMessageId = "user_message_id";

        /// <summary>The app's assistant message that answered it.</summary>
        public const string AssistantMessageId = "assistant_message_id";

        /// <summary>The question as it was embedded.</summary>
        public const string QueryText = "query_text";

        /// <summary>SHA-256 of the normalized question: the exact-match key.</summary>
        public const string QueryHash = "query_hash";

        /// <summary>The cached answer.</summary>
        public const string Answer = "answer";

        /// <summary>
        /// The question's embedding: <c>halfvec(N)</c> or <c>vector(N)</c>, as chosen when migrating (see
        /// <see cref="EmbeddingPrecision"/>). Stored inline (never TOASTed), so an exact scan reads it from the row's page.
        /// </summary>
        public const string Embedding = "embedding";

        /// <summary>The model that produced the embedding; vectors of different models are never compared.</summary>
        public const string EmbeddingModel = "embedding_model";

        /// <summary>When the entry was stored.</summary>
        public const string CreatedAt = "created_at";

        /// <summary>When the entry stops answering; NULL for never.</summary>
        public const string ExpiresAt = "expires_at";

        /// <summary>
        /// Whether the entry is in the HNSW index yet. A store commits its row unindexed and the index insertion, the
        /// costly part of a store, follows off the request path (<see cref="Functions.IndexPending"/>); lookups read
        /// unindexed entries exactly meanwhile. Rows inserted by other writers are indexed at once (the default is true).
        /// </summary>
        public const string Indexed = "indexed";

        /// <summary>The HNSW index on the embedding (cosine), partial: indexed entries only.</summary>
        public const string VectorIndex = "ix_query_cache_embeddings_embedding_hnsw";

        /// <summary>B-tree on (tenant, model, query hash): the exact-match key and the exact path of a small tenant.</summary>
        public const string ScopeIndex = "ix_query_cache_embeddings_scope";

        /// <summary>Partial b-tree on (tenant, model) of the entries not in the HNSW index yet.</summary>
        public const string PendingIndex = "ix_query_cache_embeddings_pending";
    }

    /// <summary>
    /// Table <c>query_cache_hits</c>: how often each entry answered, kept apart from the entry so that recording a hit
    /// never rewrites the row that carries the vector.
    /// </summary>
    public static class Hits
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_hits";

        /// <summary>The entry's tenant: part of the key, so the table can be distributed by tenant with the entries.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The entry (deleted with it).</summary>
        public const string EntryId = "entry_id";

        /// <summary>How many lookups it answered.</summary>
        public const string HitCount = "hit_count";

        /// <summary>When it last answered a lookup.</summary>
        public const string LastHitAt = "last_hit_at";
    }

    /// <summary>
    /// Table <c>query_cache_tenant_sizes</c>: live entry counts per tenant and embedding model, kept by triggers. The
    /// lookup reads it to choose its path: an exact scan for a small tenant, the HNSW index for a large one.
    /// </summary>
    public static class TenantSizes
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_tenant_sizes";

        /// <summary>The tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The embedding model.</summary>
        public const string EmbeddingModel = "embedding_model";

        /// <summary>How many entries the tenant has of that model.</summary>
        public const string Entries = "entries";
    }

    /// <summary>
    /// Table <c>query_cache_text_embeddings</c>: the embedding cache behind <c>UseQueryCacheEmbeddings()</c>, one vector
    /// per embedding model and normalized text, keyed by the text's SHA-256 (the text itself is not stored).
    /// </summary>
    public static class TextEmbeddings
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_text_embeddings";

        /// <summary>The embedding model (and dimension) the vector came from.</summary>
        public const string Model = "model";

        /// <summary>SHA-256 of the normalized text.</summary>
        public const string TextHash = "text_hash";

        /// <summary>The vector, in full precision and of any dimension (the model's own output, returned as it was).</summary>
        public const string Embedding = "embedding";

        /// <summary>When the vector stops being served; the cleanup job deletes it after that.</summary>
        public const string ExpiresAt = "expires_at";

        /// <summary>The index the cleanup job's expiry pass reads.</summary>
        public const string ExpiryIndex = "ix_query_cache_text_embeddings_expires_at";
    }

    /// <summary>Table <c>query_cache_job_state</c>: the current or last run of each job, and the backfill's checkpoint.</summary>
    public static class JobState
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_job_state";

        /// <summary>The job's name (backfill, cleanup): the key.</summary>
        public const string Job = "job";

        /// <summary>running, completed, interrupted or failed.</summary>
        public const string Status = "status";

        /// <summary>The backfill's tenant filter.</summary>
        public const string TenantFilter = "tenant_filter";

        /// <summary>The backfill's lower bound on the asked time.</summary>
        public const string SinceFilter = "since_filter";

        /// <summary>The backfill's upper bound on the asked time.</summary>
        public const string UntilFilter = "until_filter";

        /// <summary>Checkpoint: the asked time of the last pair committed.</summary>
        public const string CursorAskedAt = "cursor_asked_at";

        /// <summary>Checkpoint: the user message id of the last pair committed.</summary>
        public const string CursorUserMessageId = "cursor_user_message_id";

        /// <summary>Pairs the backfill will read in all.</summary>
        public const string Total = "total";

        /// <summary>Pairs read (backfill) or entries deleted (cleanup).</summary>
        public const string Processed = "processed";

        /// <summary>Entries the backfill added.</summary>
        public const string Added = "added";

        /// <summary>Pairs that were cached already.</summary>
        public const string AlreadyCached = "already_cached";

        /// <summary>Pairs not cached on purpose.</summary>
        public const string Skipped = "skipped";

        /// <summary>Pairs whose embedding failed.</summary>
        public const string Failed = "failed";

        /// <summary>When the run started.</summary>
        public const string StartedAt = "started_at";

        /// <summary>When the run last saved its state.</summary>
        public const string UpdatedAt = "updated_at";

        /// <summary>When the run ended.</summary>
        public const string FinishedAt = "finished_at";

        /// <summary>Why a failed run failed.</summary>
        public const string Error = "error";
    }

    /// <summary>Table <c>query_cache_erasures</c>: erased users, whose earlier questions the backfill never caches again.</summary>
    public static class Erasures
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_erasures";

        /// <summary>The erased user's tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The erased user.</summary>
        public const string UserId = "user_id";

        /// <summary>When they were erased.</summary>
        public const string ErasedAt = "erased_at";
    }
}
