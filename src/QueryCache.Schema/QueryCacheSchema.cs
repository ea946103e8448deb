namespace QueryCache;

/// <summary>
/// The names and limits of the database objects the QueryCache migrations create: the one vocabulary that the EF Core
/// model and the runtime's SQL are written from. The migrations themselves are literal history and do not read it, so
/// changing a name here is a schema change that needs a new migration.
/// </summary>
public static partial class QueryCacheSchema
{
    /// <summary>The schema that holds every QueryCache object (and, as a prerequisite, the app's message table).</summary>
    public const string Schema = "askwealth";

    /// <summary>QueryCache's own EF Core migrations history table, so the app's <c>__EFMigrationsHistory</c> is untouched.</summary>
    public const string MigrationsHistoryTable = "__query_cache_migrations";

    /// <summary>
    /// The LISTEN/NOTIFY channel on which the database announces, on commit, that cached answers changed: the payload is
    /// a tenant id (its entries were deleted or replaced, or its settings changed), or <c>*</c> for all tenants (the global
    /// settings changed, or the table was truncated). Triggers send it, whatever made the change.
    /// </summary>
    public const string InvalidationChannel = "querycache_invalidations";

    /// <summary>The newest migration; the health check reports a database that has not reached it.</summary>
    public static string LatestMigration { get; } = "20261207160236_PrefixGraphs";

    /// <summary>Schema of Quartz.NET's ADO.NET job store tables, for clustered scheduling on the same database.</summary>
    public const string QuartzSchema = "querycache_quartz";

    /// <summary>The <c>quartz.jobStore.tablePrefix</c> that points Quartz at those tables.</summary>
    public const string QuartzTablePrefix = QuartzSchema + ".qrtz_";

    /// <summary>The embedding dimension used when none is configured (OpenAI text-embedding-3-small, ada-002).</summary>
    public const int DefaultDimensions = 1536;

    /// <summary>pgvector's limit for an HNSW-indexed <c>halfvec</c> column (<see cref="EmbeddingPrecision.Half"/>): the largest dimension QueryCache stores.</summary>
    public const int MaxIndexedDimensions = 4000;

    /// <summary>pgvector's limit for an HNSW-indexed <c>vector</c> column (<see cref="EmbeddingPrecision.Full"/>).</summary>
    public const int MaxIndexedFullDimensions = 2000;

    /// <summary>The largest dimension an HNSW index takes in <paramref name="precision"/>.</summary>
    /// <param name="precision">The embedding column's precision.</param>
    /// <returns><see cref="MaxIndexedDimensions"/> for halfvec, <see cref="MaxIndexedFullDimensions"/> for vector.</returns>
    public static int MaxDimensions(EmbeddingPrecision precision) =>
        precision == EmbeddingPrecision.Full ? MaxIndexedFullDimensions : MaxIndexedDimensions;

    /// <summary>Longest question stored, in characters. Questions are short; longer text is almost always a pasted document.</summary>
    public const int MaxQueryTextLength = 8_000;

    /// <summary>The most distinct askers a tenant's new shared entries can be set to wait for.</summary>
    public const int MaxShareAfterAskers = 1000;

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

    /// <summary>
    /// HNSW build parameter: candidate list size while building. Above pgvector's default (64) because a better graph
    /// lets lookups walk a shorter list for the same decisions; the costlier insertion runs off the request path.
    /// </summary>
    public const int HnswEfConstruction = 200;

    /// <summary>The SQL type of the embedding column for <paramref name="precision"/>: <c>halfvec</c> or <c>vector</c>.</summary>
    /// <param name="precision">The precision chosen when migrating.</param>
    /// <returns>The type's name, without the dimension.</returns>
    public static string VectorType(EmbeddingPrecision precision) => precision switch
    {
        EmbeddingPrecision.Half => "halfvec",
        EmbeddingPrecision.Full => "vector",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Use EmbeddingPrecision.Half or EmbeddingPrecision.Full."),
    };
}
