using System.Globalization;
using QueryCache.Data;

namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration FastLookups: the embedding column in the chosen precision and stored inline, a partial HNSW
/// index filled off the request path, hit counts and tenant sizes in their own tables, and lookups that choose their
/// path from the tenant's size.
/// </summary>
internal static partial class FastLookupsSql
{
    /// <summary>Before the hit columns go: their counts move to the hit table.</summary>
    public const string MoveHitCounts = """
        DO $check$
        DECLARE
            v_version text := (SELECT extversion FROM pg_extension WHERE extname = 'vector');
        BEGIN
            IF string_to_array(split_part(v_version, '-', 1), '.')::int[] < ARRAY[0, 8, 0] THEN
                RAISE EXCEPTION 'query cache: pgvector % is installed; QueryCache needs 0.8.0 or newer (halfvec, iterative index scans)', v_version
                    USING HINT = 'Install pgvector 0.8 or newer on the server, then run ALTER EXTENSION vector UPDATE and migrate again.';
            END IF;
        END $check$;

        INSERT INTO askwealth.query_cache_hits (entry_id, hit_count, last_hit_at)
        SELECT e.id, e.hit_count, coalesce(e.last_hit_at, e.created_at)
        FROM askwealth.query_cache_embeddings e
        WHERE e.hit_count > 0;
        """;

    public static string Up(EmbeddingColumn column) => Fill(UpTemplate, column);

    /// <summary>Back to a TOASTable <c>vector(N)</c> column without its HNSW index (the EF operations recreate that).</summary>
    public static string RestoreColumn(EmbeddingColumn column) => Fill("""
        DROP TRIGGER IF EXISTS query_cache_count_inserts ON askwealth.query_cache_embeddings;
        DROP TRIGGER IF EXISTS query_cache_count_deletes ON askwealth.query_cache_embeddings;
        DROP TRIGGER IF EXISTS query_cache_count_truncates ON askwealth.query_cache_embeddings;
        DROP FUNCTION IF EXISTS askwealth.query_cache_count_entries();
        DROP FUNCTION IF EXISTS askwealth.query_cache_index_pending(integer);
        DROP INDEX IF EXISTS askwealth.ix_query_cache_embeddings_embedding_hnsw;
        ALTER TABLE askwealth.query_cache_embeddings RESET (toast_tuple_target);
        ALTER TABLE askwealth.query_cache_embeddings
            ALTER COLUMN embedding TYPE vector({dimensions}) USING embedding::vector({dimensions}),
            ALTER COLUMN embedding SET STORAGE EXTENDED;
        """, column);

    /// <summary>After the hit columns are back: the counts return to them.</summary>
    public const string RestoreHitCounts = """
        UPDATE askwealth.query_cache_embeddings e
        SET hit_count = h.hit_count, last_hit_at = h.last_hit_at
        FROM askwealth.query_cache_hits h
        WHERE h.entry_id = e.id;
        """;

    /// <summary>The functions as AddAnswerCorrectness left them.</summary>
    public static string RestoreFunctions(EmbeddingColumn column) => string.Join("\n\n",
        InitialQueryCacheSql.RecordHit, InitialQueryCacheSql.Cleanup, InitialQueryCacheSql.Stats,
        InitialQueryCacheSql.Lookup(column.Dimensions),
        "DROP FUNCTION IF EXISTS askwealth.query_cache_nearest(vector, text, text, text);",
        AnswerCorrectnessSql.Nearest(column.Dimensions));

    internal static string Fill(string template, EmbeddingColumn column) => template
        .Replace("{dimensions}", column.Dimensions.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{column}", column.SqlType, StringComparison.Ordinal)
        .Replace("{type}", column.VectorType, StringComparison.Ordinal)
        .Replace("{convert}", column.Precision == EmbeddingPrecision.Half
            ? $"embedding::{column.SqlType}"
            // The same type: subvector copies the value, which makes PostgreSQL rewrite the rows with the new storage.
            : $"subvector(embedding, 1, {column.Dimensions})::{column.SqlType}", StringComparison.Ordinal)
        .Replace("{toast_tuple_target}", ToastTupleTarget(column).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{m}", QueryCacheSchema.HnswM.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{ef_construction}", QueryCacheSchema.HnswEfConstruction.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{ef_search}", QueryCacheSchema.LookupSettings.DefaultEfSearch.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{exact_scan_limit}", QueryCacheSchema.LookupSettings.DefaultExactScanLimit.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>
    /// The row size up to which PostgreSQL keeps a row's text inline: as many rows fit a page as the vector allows, and
    /// up to that size the question and answer ride in the space those rows leave free (no TOAST read on a hit).
    /// </summary>
    private static int ToastTupleTarget(EmbeddingColumn column)
    {
        const int PageSpace = 8160;
        var vectorBytes = 8 + (column.Dimensions * (column.Precision == EmbeddingPrecision.Half ? 2 : 4));
        var rowsPerPage = Math.Max(1, PageSpace / (vectorBytes + 128));
        return Math.Max(2032, (PageSpace / rowsPerPage) - 32);
    }
}
