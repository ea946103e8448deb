namespace QueryCache.Migrations.Migrations;

/// <content>Migration InitialQueryCache's cleanup, figures and Q&amp;A view functions.</content>
internal static partial class InitialQueryCacheSql
{
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
