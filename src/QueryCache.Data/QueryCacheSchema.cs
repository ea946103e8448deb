namespace QueryCache.Data;

/// <summary>Names and limits of the database objects the migrations create; the contract shared by EF Core and the service's SQL.</summary>
public static class QueryCacheSchema
{
    public const string Schema = "askwealth";
    public const string ConfigTable = "query_cache_config";
    public const string EmbeddingsTable = "query_cache_embeddings";
    public const string QaPairsView = "v_cached_qa_pairs";
    public const string MigrationsHistoryTable = "__query_cache_migrations";
    public const string JobStateTable = "query_cache_job_state";
    public const string ErasuresTable = "query_cache_erasures";

    /// <summary>Schema of Quartz.NET's ADO.NET job store tables, for clustered scheduling on the same database.</summary>
    public const string QuartzSchema = "querycache_quartz";

    /// <summary>The <c>quartz.jobStore.tablePrefix</c> that points Quartz at those tables.</summary>
    public const string QuartzTablePrefix = QuartzSchema + ".qrtz_";
    public const string EmbeddingIndex = "ix_query_cache_embeddings_embedding_hnsw";

    /// <summary>The newest migration; the health check reports a database that has not reached it.</summary>
    public const string LatestMigration = "20261122230603_AddErasure";

    public const string LookupFunction = "query_cache_lookup";
    public const string LookupExactFunction = "query_cache_lookup_exact";
    public const string RecordHitFunction = "query_cache_record_hit";
    public const string CleanupFunction = "query_cache_cleanup";
    public const string StatsFunction = "query_cache_stats";

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

    public const double DefaultSimilarityThreshold = 0.85;
    public const int DefaultMaxCacheEntries = 5000;

    /// <summary>HNSW build parameters (pgvector's defaults): neighbours per layer and candidate list size while building.</summary>
    public const int HnswM = 16;
    public const int HnswEfConstruction = 64;
}
