namespace QueryCache;

/// <content>The view and the SQL helper functions.</content>
public static partial class QueryCacheSchema
{
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

        /// <summary><c>query_cache_nearest(embedding, tenant, user, model)</c>: the nearest live entry, whatever its similarity, with the settings in force.</summary>
        public const string Nearest = "query_cache_nearest";

        /// <summary>The k nearest live entries of a scope, skipping those withdrawn for the question, with the settings in force.</summary>
        public const string Candidates = "query_cache_candidates";

        /// <summary><c>query_cache_tenant_graph_name(tenant)</c>: the index name of the tenant's own HNSW graph.</summary>
        public const string TenantGraphName = "query_cache_tenant_graph_name";

        /// <summary><c>query_cache_tenant_graph(tenant)</c>: the tenant's own HNSW graph (a partial index), if it has a valid one.</summary>
        public const string TenantGraph = "query_cache_tenant_graph";

        /// <summary>
        /// <c>query_cache_tenant_graph_statement(tenant, build)</c>: the <c>CREATE INDEX CONCURRENTLY</c> (build) or
        /// <c>DROP INDEX CONCURRENTLY</c> statement of the tenant's own graph, to run outside a transaction.
        /// </summary>
        public const string TenantGraphStatement = "query_cache_tenant_graph_statement";

        /// <summary><c>query_cache_lookup_exact(hash, tenant, user, model, record_hit)</c>: the entry whose normalized question has this hash.</summary>
        public const string LookupExact = "query_cache_lookup_exact";

        /// <summary>
        /// <c>CALL query_cache_declare_tenant(tenant)</c>: the tenant whose rows the rest of the transaction reads and writes
        /// under row-level security; NULL for every tenant.
        /// </summary>
        public const string DeclareTenant = "query_cache_declare_tenant";

        /// <summary><c>query_cache_enable_row_level_security()</c>: restricts every cache table with a tenant to the declared tenant.</summary>
        public const string EnableRowLevelSecurity = "query_cache_enable_row_level_security";

        /// <summary><c>query_cache_disable_row_level_security()</c>: removes those restrictions; no row is touched.</summary>
        public const string DisableRowLevelSecurity = "query_cache_disable_row_level_security";

        /// <summary><c>query_cache_grant_to(role)</c>: what a login role needs to run the service, and nothing more.</summary>
        public const string GrantTo = "query_cache_grant_to";

        /// <summary>The users a tenant's new shared entries wait for (<see cref="Config.ShareAfterAskers"/>, else the global one).</summary>
        public const string ShareAfterAskers = "query_cache_share_after_askers";

        /// <summary>
        /// The nearest entries of a tenant waiting for corroboration that other users asked (the lookup's second look, on a
        /// miss of a user in a tenant that shares after more than one asker), with the settings in force.
        /// </summary>
        public const string PendingCandidates = "query_cache_pending_candidates";

        /// <summary>Counts a user as an asker of a pending entry (once); shares the entry when enough have asked. True when it is shared.</summary>
        public const string Corroborate = "query_cache_corroborate";

        /// <summary>Shares a pending entry with the whole tenant at once (a verifier's or moderator's approval).</summary>
        public const string ApproveSharing = "query_cache_approve_sharing";

        /// <summary><c>query_cache_record_hit(entry, hits)</c>: adds to an entry's hit count.</summary>
        public const string RecordHit = "query_cache_record_hit";

        /// <summary>
        /// <c>query_cache_index_pending(batch)</c>: inserts one batch of stored entries into the HNSW index and returns how
        /// many; the service calls it after its stores, the cleanup job before each run.
        /// </summary>
        public const string IndexPending = "query_cache_index_pending";

        /// <summary><c>query_cache_cleanup(batch)</c>: deletes one batch of expired or over-cap entries.</summary>
        public const string Cleanup = "query_cache_cleanup";

        /// <summary><c>query_cache_stats(tenant)</c>: entry and hit figures.</summary>
        public const string Stats = "query_cache_stats";

        /// <summary><c>query_cache_effective_config(tenant)</c>: the settings in force for a tenant.</summary>
        public const string EffectiveConfig = "query_cache_effective_config";

        /// <summary><c>query_cache_define_qa_view()</c>: (re)creates the Q&amp;A view over the app's message table.</summary>
        public const string DefineQaView = "query_cache_define_qa_view";

        /// <summary>
        /// <c>query_cache_install_message_triggers()</c>: puts triggers on the app's message table so that updating a
        /// cached message's content (or rephrased query), deleting it or truncating the table removes the entries made
        /// from it, in the same transaction. Idempotent; the migrations never call it.
        /// </summary>
        public const string InstallMessageTriggers = "query_cache_install_message_triggers";

        /// <summary><c>query_cache_remove_message_triggers()</c>: takes those triggers off the app's message table again.</summary>
        public const string RemoveMessageTriggers = "query_cache_remove_message_triggers";

        /// <summary>Output column of the lookup functions: the entry id.</summary>
        public const string EntryIdColumn = "entry_id";

        /// <summary>Output column of the lookup functions: the cosine similarity to the question.</summary>
        public const string SimilarityColumn = "similarity";
    }

    /// <summary>
    /// PostgreSQL parameters the lookup functions read, to set per database, role or session (for example
    /// <c>ALTER DATABASE app SET querycache.ef_search = 200</c>); unset, the defaults below apply.
    /// </summary>
    public static class LookupSettings
    {
        /// <summary>
        /// <c>querycache.ef_search</c>: the candidate list of the HNSW walk (pgvector's <c>hnsw.ef_search</c>) for a tenant
        /// above <see cref="ExactScanLimit"/>, through the shared graph or the tenant's own. Higher finds the true nearest entry more often, and costs time.
        /// </summary>
        public const string EfSearch = "querycache.ef_search";

        /// <summary>
        /// <c>querycache.exact_scan_limit</c>: a tenant with at most this many entries (of the model) is read exactly,
        /// every entry compared, instead of through the HNSW index.
        /// </summary>
        public const string ExactScanLimit = "querycache.exact_scan_limit";

        /// <summary>The default of <see cref="EfSearch"/>.</summary>
        public const int DefaultEfSearch = 100;

        /// <summary>The default of <see cref="ExactScanLimit"/>: where an exact scan costs about what an HNSW walk does.</summary>
        public const int DefaultExactScanLimit = 2000;
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
