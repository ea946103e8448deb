using System.Globalization;

namespace QueryCache.Migrations.Migrations;

/// <summary>The view and helper functions of the initial migration: what EF's model cannot say.</summary>
internal static class InitialQueryCacheSql
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

    private const string CheckScope = """
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

    internal const string Cleanup = """
        -- Deletes at most p_batch_size entries: expired ones first, then the least recently used (last hit, else creation)
        -- of each tenant over its own max_cache_entries, then of the whole table over the global max_cache_entries.
        -- Returns how many went; call it until it returns 0. Small batches keep row locks short.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_cleanup(p_batch_size integer DEFAULT 500)
        RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_deleted integer;
            v_tenant record;
            v_excess bigint;
        BEGIN
            IF p_batch_size IS NULL OR p_batch_size < 1 THEN
                RAISE EXCEPTION 'query cache: cleanup batch size % must be at least 1', p_batch_size USING ERRCODE = '22023';
            END IF;

            DELETE FROM askwealth.query_cache_embeddings
            WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                         WHERE e.expires_at <= now() LIMIT p_batch_size FOR UPDATE SKIP LOCKED);
            GET DIAGNOSTICS v_deleted = ROW_COUNT;
            IF v_deleted > 0 THEN
                RETURN v_deleted;
            END IF;

            FOR v_tenant IN
                SELECT c.tenant_id, c.max_cache_entries FROM askwealth.query_cache_config c
                WHERE c.tenant_id IS NOT NULL AND c.max_cache_entries IS NOT NULL
            LOOP
                SELECT count(*) - v_tenant.max_cache_entries INTO v_excess
                FROM askwealth.query_cache_embeddings e WHERE e.tenant_id = v_tenant.tenant_id;
                IF v_excess > 0 THEN
                    DELETE FROM askwealth.query_cache_embeddings
                    WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                                 WHERE e.tenant_id = v_tenant.tenant_id
                                 ORDER BY coalesce(e.last_hit_at, e.created_at), e.id
                                 LIMIT least(v_excess, p_batch_size) FOR UPDATE SKIP LOCKED);
                    GET DIAGNOSTICS v_deleted = ROW_COUNT;
                    RETURN v_deleted;
                END IF;
            END LOOP;

            SELECT count(*) - (SELECT g.max_cache_entries FROM askwealth.query_cache_config g WHERE g.tenant_id IS NULL)
            INTO v_excess FROM askwealth.query_cache_embeddings;
            IF v_excess > 0 THEN
                DELETE FROM askwealth.query_cache_embeddings
                WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                             ORDER BY coalesce(e.last_hit_at, e.created_at), e.id
                             LIMIT least(v_excess, p_batch_size) FOR UPDATE SKIP LOCKED);
                GET DIAGNOSTICS v_deleted = ROW_COUNT;
                RETURN v_deleted;
            END IF;
            RETURN 0;
        END $fn$;
        """;

    internal const string Stats = """
        -- Entry and hit figures for one tenant, or for the whole cache when p_tenant_id is NULL.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_stats(p_tenant_id text DEFAULT NULL)
        RETURNS TABLE (total_entries bigint, total_hits bigint, expired_entries bigint, hit_entries bigint,
                       tenant_count bigint, oldest_entry_at timestamptz, newest_entry_at timestamptz, last_hit_at timestamptz)
        LANGUAGE sql STABLE AS $fn$
            SELECT count(*),
                   coalesce(sum(e.hit_count), 0)::bigint,
                   count(*) FILTER (WHERE e.expires_at <= now()),
                   count(*) FILTER (WHERE e.hit_count > 0),
                   count(DISTINCT e.tenant_id),
                   min(e.created_at), max(e.created_at), max(e.last_hit_at)
            FROM askwealth.query_cache_embeddings e
            WHERE p_tenant_id IS NULL OR e.tenant_id = p_tenant_id
        $fn$;
        """;

    private const string DefineQaView = """
        -- (Re)creates v_cached_qa_pairs over the app's askwealth.message table: each user message paired with the
        -- assistant message that answered it, i.e. the next non-system message of the conversation when that is an
        -- assistant's. Without the message table the view is an empty placeholder; call this again once it exists.
        -- A history of another shape replaces the view with the same columns instead.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_define_qa_view()
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
            IF to_regclass('askwealth.message') IS NULL THEN
                CREATE OR REPLACE VIEW askwealth.v_cached_qa_pairs AS
                SELECT NULL::uuid AS user_message_id, NULL::uuid AS assistant_message_id, NULL::uuid AS conversation_id,
                       NULL::text AS tenant_id, NULL::text AS user_id, NULL::text AS question, NULL::text AS answer,
                       NULL::timestamptz AS asked_at
                WHERE false;
                COMMENT ON VIEW askwealth.v_cached_qa_pairs IS
                    'placeholder: askwealth.message did not exist; run SELECT askwealth.query_cache_define_qa_view() once it does';
                RAISE NOTICE 'askwealth.message does not exist: v_cached_qa_pairs is an empty placeholder until SELECT askwealth.query_cache_define_qa_view() is run';
                RETURN false;
            END IF;
            CREATE OR REPLACE VIEW askwealth.v_cached_qa_pairs AS
            SELECT u.id AS user_message_id,
                   a.id AS assistant_message_id,
                   u.conversation_id,
                   u.tenant_id,
                   u.user_id,
                   coalesce(nullif(btrim(u.rephrased_query), ''), u.content) AS question,
                   a.content AS answer,
                   u.created_at AS asked_at
            FROM askwealth.message u
            JOIN LATERAL (
                SELECT m.id, m.role, m.content
                FROM askwealth.message m
                WHERE m.conversation_id = u.conversation_id
                  AND m.role <> 'system'
                  AND (m.created_at, m.id) > (u.created_at, u.id)
                ORDER BY m.created_at, m.id
                LIMIT 1) a ON a.role = 'assistant'
            WHERE u.role = 'user';
            COMMENT ON VIEW askwealth.v_cached_qa_pairs IS
                'Q&A pairs from askwealth.message for the query cache backfill (user message + the assistant reply that follows it)';
            RETURN true;
        END $fn$;

        DO $qa$ BEGIN PERFORM askwealth.query_cache_define_qa_view(); END $qa$;
        """;
}
