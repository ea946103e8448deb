namespace QueryCache;

/// <summary>
/// The names and limits of the database objects the QueryCache migrations create: the one vocabulary that the EF Core
/// model and the runtime's SQL are written from. The migrations themselves are literal history and do not read it, so
/// changing a name here is a schema change that needs a new migration.
/// </summary>
public static class QueryCacheSchema
{
    /// <summary>The schema that holds every QueryCache object (and, as a prerequisite, the app's message table).</summary>
    public const string Schema = "askwealth";

    /// <summary>QueryCache's own EF Core migrations history table, so the app's <c>__EFMigrationsHistory</c> is untouched.</summary>
    public const string MigrationsHistoryTable = "__query_cache_migrations";

    /// <summary>The newest migration; the health check reports a database that has not reached it.</summary>
    public const string LatestMigration = "20261122230603_AddErasure";

    /// <summary>Schema of Quartz.NET's ADO.NET job store tables, for clustered scheduling on the same database.</summary>
    public const string QuartzSchema = "querycache_quartz";

    /// <summary>The <c>quartz.jobStore.tablePrefix</c> that points Quartz at those tables.</summary>
    public const string QuartzTablePrefix = QuartzSchema + ".qrtz_";

    /// <summary>The embedding dimension used when none is configured (OpenAI text-embedding-3-small, ada-002).</summary>
    public const int DefaultDimensions = 1536;

    /// <summary>pgvector's limit for an HNSW-indexed <c>vector</c> column.</summary>
    public const int MaxIndexedDimensions = 2000;

    /// <summary>Longest question stored, in characters. Questions are short; longer text is almost always a pasted document.</summary>
    public const int MaxQueryTextLength = 8_000;

    /// <summary>Longest answer stored, in characters.</summary>
    public const int MaxAnswerLength = 200_000;

    /// <summary>Longest tenant or user id, in characters.</summary>
    public const int MaxScopeIdLength = 16_384;

    /// <summary>The seeded global similarity threshold.</summary>
    public const double DefaultSimilarityThreshold = 0.85;

    /// <summary>The seeded global cap on the number of entries.</summary>
    public const int DefaultMaxCacheEntries = 5000;

    /// <summary>HNSW build parameter: neighbours per node and layer (pgvector's default).</summary>
    public const int HnswM = 16;

    /// <summary>HNSW build parameter: candidate list size while building (pgvector's default).</summary>
    public const int HnswEfConstruction = 64;

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

        /// <summary>The question's embedding.</summary>
        public const string Embedding = "embedding";

        /// <summary>The model that produced the embedding; vectors of different models are never compared.</summary>
        public const string EmbeddingModel = "embedding_model";

        /// <summary>When the entry was stored.</summary>
        public const string CreatedAt = "created_at";

        /// <summary>When the entry stops answering; NULL for never.</summary>
        public const string ExpiresAt = "expires_at";

        /// <summary>How many lookups it answered.</summary>
        public const string HitCount = "hit_count";

        /// <summary>When it last answered a lookup.</summary>
        public const string LastHitAt = "last_hit_at";

        /// <summary>The HNSW index on the embedding (cosine).</summary>
        public const string VectorIndex = "ix_query_cache_embeddings_embedding_hnsw";
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

    /// <summary>View <c>v_cached_qa_pairs</c>: the adapter to the app's history, one row per answered user message.</summary>
    public static class QaPairs
    {
        /// <summary>The view's name.</summary>
        public const string View = "v_cached_qa_pairs";

        /// <summary>The user message.</summary>
        public const string UserMessageId = "user_message_id";

        /// <summary>The assistant message that answered it.</summary>
        public const string AssistantMessageId = "assistant_message_id";

        /// <summary>The conversation.</summary>
        public const string ConversationId = "conversation_id";

        /// <summary>The tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The user who asked.</summary>
        public const string UserId = "user_id";

        /// <summary>The rephrased query where the app stored one, else the message content.</summary>
        public const string Question = "question";

        /// <summary>The assistant's answer.</summary>
        public const string Answer = "answer";

        /// <summary>When the question was asked.</summary>
        public const string AskedAt = "asked_at";
    }

    /// <summary>The SQL helper functions, in schema <see cref="Schema"/>.</summary>
    public static class Functions
    {
        /// <summary><c>query_cache_lookup(embedding, tenant, user, model, threshold, record_hit)</c>: the nearest live entry at or above the threshold.</summary>
        public const string Lookup = "query_cache_lookup";

        /// <summary><c>query_cache_lookup_exact(hash, tenant, user, model, record_hit)</c>: the entry whose normalized question has this hash.</summary>
        public const string LookupExact = "query_cache_lookup_exact";

        /// <summary><c>query_cache_record_hit(entry, hits)</c>: adds to an entry's hit count.</summary>
        public const string RecordHit = "query_cache_record_hit";

        /// <summary><c>query_cache_cleanup(batch)</c>: deletes one batch of expired or over-cap entries.</summary>
        public const string Cleanup = "query_cache_cleanup";

        /// <summary><c>query_cache_stats(tenant)</c>: entry and hit figures.</summary>
        public const string Stats = "query_cache_stats";

        /// <summary><c>query_cache_effective_config(tenant)</c>: the settings in force for a tenant.</summary>
        public const string EffectiveConfig = "query_cache_effective_config";

        /// <summary><c>query_cache_define_qa_view()</c>: (re)creates the Q&amp;A view over the app's message table.</summary>
        public const string DefineQaView = "query_cache_define_qa_view";

        /// <summary>Output column of the lookup functions: the entry id.</summary>
        public const string EntryIdColumn = "entry_id";

        /// <summary>Output column of the lookup functions: the cosine similarity to the question.</summary>
        public const string SimilarityColumn = "similarity";
    }

    /// <summary>The output columns of <see cref="Functions.Stats"/>.</summary>
    public static class StatsColumns
    {
        /// <summary>Entries in all.</summary>
        public const string TotalEntries = "total_entries";

        /// <summary>Hits recorded in all.</summary>
        public const string TotalHits = "total_hits";

        /// <summary>Entries past their expiry not yet deleted.</summary>
        public const string ExpiredEntries = "expired_entries";

        /// <summary>Entries that answered at least once.</summary>
        public const string HitEntries = "hit_entries";

        /// <summary>Tenants with entries.</summary>
        public const string TenantCount = "tenant_count";

        /// <summary>When the oldest entry was stored.</summary>
        public const string OldestEntryAt = "oldest_entry_at";

        /// <summary>When the newest entry was stored.</summary>
        public const string NewestEntryAt = "newest_entry_at";

        /// <summary>When an entry last answered.</summary>
        public const string LastHitAt = "last_hit_at";
    }
}
