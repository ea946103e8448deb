using System.Globalization;

namespace QueryCache.Migrations.Migrations;

/// <summary>The view and helper functions of the initial migration: what EF's model cannot say.</summary>
internal static partial class InitialQueryCacheSql
{
    public static string CreateFunctions(int dimensions) => WithDimensions(FunctionsTemplate, dimensions);

    /// <summary>This migration's <c>query_cache_lookup</c>.</summary>
    public static string Lookup(int dimensions) => WithDimensions(LookupTemplate, dimensions);

    private static string WithDimensions(string template, int dimensions) =>
        template.Replace("{dimensions}", dimensions.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public const string DropFunctions = """
        DROP VIEW IF EXISTS askwealth.v_cached_qa_pairs;
        DROP FUNCTION IF EXISTS askwealth.query_cache_define_qa_view();
        DROP FUNCTION IF EXISTS askwealth.query_cache_stats(text);
        DROP FUNCTION IF EXISTS askwealth.query_cache_cleanup(integer);
        DROP FUNCTION IF EXISTS askwealth.query_cache_record_hit(bigint, integer);
        DROP FUNCTION IF EXISTS askwealth.query_cache_lookup_exact(bytea, text, text, text, boolean);
        DROP FUNCTION IF EXISTS askwealth.query_cache_lookup(vector, text, text, text, double precision, boolean);
        DROP FUNCTION IF EXISTS askwealth.query_cache_effective_config(text);
        DROP FUNCTION IF EXISTS askwealth.query_cache_check_scope(text, text);
        """;

    // The pieces, in creation order; later migrations restore the ones they replace from here on the way down.
    private const string FunctionsTemplate = CheckScope + "\n\n" + EffectiveConfig + "\n\n" + LookupTemplate + "\n\n" + LookupExact
        + "\n\n" + RecordHit + "\n\n" + Cleanup + "\n\n" + Stats + "\n\n" + DefineQaView;

    internal const string CheckScope = """
        CREATE OR REPLACE FUNCTION askwealth.query_cache_check_scope(p_tenant_id text, p_embedding_model text)
        RETURNS void LANGUAGE plpgsql IMMUTABLE AS $fn$
        BEGIN
            IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
                RAISE EXCEPTION 'query cache: tenant_id is empty'
                    USING ERRCODE = '22023', HINT = 'Every cache call names its tenant; pass the tenant id of the request.';
            END IF;
            IF p_embedding_model IS NULL OR p_embedding_model = '' THEN
                RAISE EXCEPTION 'query cache: embedding_model is empty'
                    USING ERRCODE = '22023', HINT = 'Pass the name of the model that produced the embeddings, for example text-embedding-3-small.';
            END IF;
        END $fn$;
        """;

    private const string EffectiveConfig = """
        -- The global settings with the tenant's overrides applied (a tenant's NULL column inherits the global value).
        CREATE OR REPLACE FUNCTION askwealth.query_cache_effective_config(p_tenant_id text)
        RETURNS TABLE (similarity_threshold double precision, cache_enabled boolean, max_cache_entries integer, default_ttl interval)
        LANGUAGE sql STABLE AS $fn$
            SELECT coalesce(t.similarity_threshold, g.similarity_threshold),
                   coalesce(t.cache_enabled, g.cache_enabled),
                   coalesce(t.max_cache_entries, g.max_cache_entries),
                   coalesce(t.default_ttl, g.default_ttl)
            FROM askwealth.query_cache_config g
            LEFT JOIN askwealth.query_cache_config t ON t.tenant_id = p_tenant_id
            WHERE g.tenant_id IS NULL
        $fn$;
        """;

    private const string LookupTemplate = """
        -- The nearest live entry of the tenant (shared, or private to p_user_id) and embedding model whose cosine
        -- similarity is at least the threshold (p_threshold, else the tenant's, else the global one); records the hit.
        -- Plans are always custom, so PostgreSQL sees the tenant: a small tenant is read exactly through the b-tree, a large
        -- one through the HNSW index (a generic plan would walk HNSW for every tenant, and an approximate walk filtered to
        -- a 1% tenant can miss its nearest entry). Iterative index scans keep filtered HNSW walks going (pgvector >= 0.8).
        -- hnsw.ef_search stays at pgvector's default (40): raising it to 100 made the planner price the HNSW scan above an
        -- exact b-tree scan of a large tenant, and lookups went from ~10 ms to ~300 ms (see README, Performance).
        CREATE OR REPLACE FUNCTION askwealth.query_cache_lookup(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text,
            p_threshold double precision DEFAULT NULL, p_record_hit boolean DEFAULT true)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision,
                       user_message_id uuid, assistant_message_id uuid)
        LANGUAGE plpgsql VOLATILE
        SET hnsw.iterative_scan = 'strict_order'
        SET plan_cache_mode = 'force_custom_plan'
        AS $fn$
        DECLARE
            v_threshold double precision;
            v_enabled boolean;
            v_nearest record;
        BEGIN
            PERFORM askwealth.query_cache_check_scope(p_tenant_id, p_embedding_model);
            IF p_embedding IS NULL OR vector_dims(p_embedding) <> {dimensions} THEN
                RAISE EXCEPTION 'query cache: the embedding has % dimensions, the cache stores {dimensions}', vector_dims(p_embedding)
                    USING ERRCODE = '22023', HINT = 'Embed with the model the cache was created for, or migrate with QUERYCACHE_DIMENSIONS set to your model''s size.';
            END IF;
            IF vector_norm(p_embedding) = 0 THEN
                RAISE EXCEPTION 'query cache: the embedding is all zeros and has no direction to compare'
                    USING ERRCODE = '22023', HINT = 'Pass the embedding your model returned for the question.';
            END IF;
            IF p_threshold IS NOT NULL AND NOT (p_threshold BETWEEN 0 AND 1) THEN
                RAISE EXCEPTION 'query cache: similarity threshold % is outside [0, 1]', p_threshold
                    USING ERRCODE = '22023', HINT = 'Use a cosine similarity between 0 and 1, for example 0.85.';
            END IF;

            SELECT c.cache_enabled, coalesce(p_threshold, c.similarity_threshold) INTO v_enabled, v_threshold
            FROM askwealth.query_cache_effective_config(p_tenant_id) c;
            IF NOT coalesce(v_enabled, false) THEN
                RETURN;
            END IF;

            SELECT e.id, e.query_text, e.answer, 1 - (e.embedding <=> p_embedding) AS similarity,
                   e.user_message_id, e.assistant_message_id
            INTO v_nearest
            FROM askwealth.query_cache_embeddings e
            WHERE e.tenant_id = p_tenant_id
              AND e.embedding_model = p_embedding_model
              AND (e.user_id IS NULL OR e.user_id = p_user_id)
              AND (e.expires_at IS NULL OR e.expires_at > now())
            ORDER BY e.embedding <=> p_embedding
            LIMIT 1;
            IF NOT FOUND OR v_nearest.similarity < v_threshold THEN
                RETURN;
            END IF;
            IF p_record_hit THEN
                PERFORM askwealth.query_cache_record_hit(v_nearest.id);
            END IF;
            entry_id := v_nearest.id;
            query_text := v_nearest.query_text;
            answer := v_nearest.answer;
            similarity := v_nearest.similarity;
            user_message_id := v_nearest.user_message_id;
            assistant_message_id := v_nearest.assistant_message_id;
            RETURN NEXT;
        END $fn$;
        """;

    internal const string LookupExact = """
        -- The exact-match fast path: an entry whose normalized question hashes the same (SHA-256).
        CREATE OR REPLACE FUNCTION askwealth.query_cache_lookup_exact(
            p_query_hash bytea, p_tenant_id text, p_user_id text, p_embedding_model text, p_record_hit boolean DEFAULT true)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision,
                       user_message_id uuid, assistant_message_id uuid)
        LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_id bigint;
        BEGIN
            PERFORM askwealth.query_cache_check_scope(p_tenant_id, p_embedding_model);
            IF p_query_hash IS NULL OR octet_length(p_query_hash) <> 32 THEN
                RAISE EXCEPTION 'query cache: the query hash must be a 32-byte SHA-256 digest'
                    USING ERRCODE = '22023', HINT = 'Hash the normalized question (trimmed, lower-cased, whitespace collapsed) with SHA-256.';
            END IF;
            IF NOT coalesce((SELECT c.cache_enabled FROM askwealth.query_cache_effective_config(p_tenant_id) c), false) THEN
                RETURN;
            END IF;

            SELECT e.id INTO v_id
            FROM askwealth.query_cache_embeddings e
            WHERE e.tenant_id = p_tenant_id
              AND e.query_hash = p_query_hash
              AND e.embedding_model = p_embedding_model
              AND (e.user_id IS NULL OR e.user_id = p_user_id)
              AND (e.expires_at IS NULL OR e.expires_at > now())
            ORDER BY e.user_id NULLS LAST, e.id DESC
            LIMIT 1;
            IF v_id IS NULL THEN
                RETURN;
            END IF;
            IF p_record_hit THEN
                PERFORM askwealth.query_cache_record_hit(v_id);
            END IF;
            RETURN QUERY
            SELECT e.id, e.query_text, e.answer, 1.0::double precision, e.user_message_id, e.assistant_message_id
            FROM askwealth.query_cache_embeddings e WHERE e.id = v_id;
        END $fn$;
        """;

    internal const string RecordHit = """
        -- Adds p_hits to an entry's hit count and stamps the last hit; false when the entry is gone. The columns it
        -- touches are not indexed, so the update is HOT: no new HNSW entry, no rewrite of the (TOASTed) vector.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_record_hit(p_entry_id bigint, p_hits integer DEFAULT 1)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
            IF p_hits IS NULL OR p_hits < 1 THEN
                RAISE EXCEPTION 'query cache: hit count % must be at least 1', p_hits USING ERRCODE = '22023';
            END IF;
            UPDATE askwealth.query_cache_embeddings e
            SET hit_count = e.hit_count + p_hits, last_hit_at = now()
            WHERE e.id = p_entry_id;
            RETURN FOUND;
        END $fn$;
        """;
}
