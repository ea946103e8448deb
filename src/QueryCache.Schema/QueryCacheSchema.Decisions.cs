namespace QueryCache;

/// <content>The tables behind the learned decision.</content>
public static partial class QueryCacheSchema
{
    /// <summary>
    /// Table <c>query_cache_labels</c>: whether serving the answer cached for one question to another was right — from
    /// labelled pairs, the verifier's verdicts, feedback on served hits and audits. The learned decision is fitted on them.
    /// </summary>
    public static class Labels
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_labels";

        /// <summary>The label id.</summary>
        public const string Id = "id";

        /// <summary>The tenant it was observed in; NULL for labelled pairs applied to every tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The user who asked, where known (their labels go with them on erasure).</summary>
        public const string UserId = "user_id";

        /// <summary>The embedding model the similarity was measured with.</summary>
        public const string EmbeddingModel = "embedding_model";

        /// <summary>The question asked.</summary>
        public const string Question = "question";

        /// <summary>The cached question whose answer was (or would have been) served.</summary>
        public const string CachedQuestion = "cached_question";

        /// <summary>Their cosine similarity.</summary>
        public const string Similarity = "similarity";

        /// <summary>True when the cached answer was right for the question.</summary>
        public const string IsRight = "is_right";

        /// <summary>Where the label came from: pairs, verifier, feedback or audit.</summary>
        public const string Source = "source";

        /// <summary>The entry served, where there was one.</summary>
        public const string EntryId = "entry_id";

        /// <summary>When it was recorded.</summary>
        public const string CreatedAt = "created_at";

        /// <summary>Index: a scope's labels of one model, in order.</summary>
        public const string ScopeIndex = "ix_query_cache_labels_scope";
    }

    /// <summary>Table <c>query_cache_decisions</c>: the learned decision in force per tenant (NULL: global) and embedding model.</summary>
    public static class Decisions
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_decisions";

        /// <summary>The fit's id.</summary>
        public const string Id = "id";

        /// <summary>The tenant it was fitted for; NULL for the global fit, used by tenants without enough labels.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The embedding model whose similarities it was fitted on.</summary>
        public const string EmbeddingModel = "embedding_model";

        /// <summary>The false-hit rate it was fitted to meet.</summary>
        public const string MaxFalseHitRate = "max_false_hit_rate";

        /// <summary>The features' means, for standardizing.</summary>
        public const string Means = "means";

        /// <summary>The features' standard deviations, for standardizing.</summary>
        public const string Scales = "scales";

        /// <summary>The weights of the standardized features.</summary>
        public const string Weights = "weights";

        /// <summary>The intercept.</summary>
        public const string Bias = "bias";

        /// <summary>The lowest probability of being right that is served ('Infinity': none).</summary>
        public const string Cutoff = "cutoff";

        /// <summary>The labels it was fitted on.</summary>
        public const string LabelCount = "label_count";

        /// <summary>Of those, the ones that were right.</summary>
        public const string RightCount = "right_count";

        /// <summary>The false-hit rate expected of what it serves, from predictions on labels the fit did not see.</summary>
        public const string ExpectedFalseHitRate = "expected_false_hit_rate";

        /// <summary>When it was fitted.</summary>
        public const string FittedAt = "fitted_at";

        /// <summary>Unique index: one fit per tenant (or global) and model.</summary>
        public const string ScopeIndex = "ux_query_cache_decisions_scope";
    }

    /// <summary>Table <c>query_cache_withdrawn</c>: an entry reported wrong for a question is not served for it again.</summary>
    public static class Withdrawn
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_withdrawn";

        /// <summary>The tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The SHA-256 of the normalized question it was wrong for.</summary>
        public const string QueryHash = "query_hash";

        /// <summary>The entry withdrawn for that question.</summary>
        public const string EntryId = "entry_id";

        /// <summary>When it was reported.</summary>
        public const string CreatedAt = "created_at";
    }

    /// <summary>The users who asked a question an entry waiting for corroboration answers, each once.</summary>
    public static class Askers
    {
        /// <summary>The table's name.</summary>
        public const string Table = "query_cache_askers";

        /// <summary>The tenant.</summary>
        public const string TenantId = "tenant_id";

        /// <summary>The entry asked for.</summary>
        public const string EntryId = "entry_id";

        /// <summary>The user who asked (not the entry's own asker).</summary>
        public const string UserId = "user_id";

        /// <summary>When they first asked.</summary>
        public const string AskedAt = "asked_at";
    }
}
