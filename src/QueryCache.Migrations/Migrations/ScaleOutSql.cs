namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration ScaleOut: the database announces changes to cached answers on a LISTEN/NOTIFY channel (for the
/// in-process tiers of every instance), and the exact-match lookup returns the entry's expiry (so a tier never holds an
/// entry past it).
/// </summary>
internal static class ScaleOutSql
{
    public const string Up = """
        -- Notifies 'querycache_invalidations' on commit with each tenant whose entries were deleted (any way: invalidation,
        -- erasure, cleanup, message triggers, plain SQL), or '*' when the table was truncated. Statement-level: one
        -- notification per tenant and statement. A tenant id too long for a payload is announced as '*'.
        CREATE FUNCTION askwealth.query_cache_notify_deleted()
        RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('querycache_invalidations', '*');
            ELSE
                PERFORM pg_notify('querycache_invalidations', CASE WHEN octet_length(d.tenant_id) < 7000 THEN d.tenant_id ELSE '*' END)
                FROM (SELECT DISTINCT o.tenant_id FROM query_cache_deleted o) d;
            END IF;
            RETURN NULL;
        END $fn$;

        -- Notifies the tenant of a replaced entry (a re-added message) or of changed settings; the global row's NULL tenant
        -- (like a tenant id too long for a payload) is announced as '*'.
        CREATE FUNCTION askwealth.query_cache_notify_changed()
        RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
            v_tenant text := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
        BEGIN
            PERFORM pg_notify('querycache_invalidations', CASE WHEN octet_length(v_tenant) < 7000 THEN v_tenant ELSE '*' END);
            RETURN NULL;
        END $fn$;

        CREATE TRIGGER query_cache_notify_deletes AFTER DELETE ON askwealth.query_cache_embeddings
            REFERENCING OLD TABLE AS query_cache_deleted FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_notify_deleted();
        CREATE TRIGGER query_cache_notify_truncates AFTER TRUNCATE ON askwealth.query_cache_embeddings
            FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_notify_deleted();
        CREATE TRIGGER query_cache_notify_replaced AFTER UPDATE ON askwealth.query_cache_embeddings
            FOR EACH ROW WHEN ((old.query_text, old.answer, old.expires_at, old.user_id, old.tenant_id)
                               IS DISTINCT FROM (new.query_text, new.answer, new.expires_at, new.user_id, new.tenant_id))
            EXECUTE FUNCTION askwealth.query_cache_notify_changed();
        CREATE TRIGGER query_cache_notify_config AFTER INSERT OR UPDATE OR DELETE ON askwealth.query_cache_config
            FOR EACH ROW EXECUTE FUNCTION askwealth.query_cache_notify_changed();
        CREATE TRIGGER query_cache_notify_config_truncates AFTER TRUNCATE ON askwealth.query_cache_config
            FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_notify_deleted();

        DROP FUNCTION askwealth.query_cache_lookup_exact(bytea, text, text, text, boolean);
        """ + "\n\n" + LookupExact;

    public const string Down = """
        DROP TRIGGER IF EXISTS query_cache_notify_deletes ON askwealth.query_cache_embeddings;
        DROP TRIGGER IF EXISTS query_cache_notify_truncates ON askwealth.query_cache_embeddings;
        DROP TRIGGER IF EXISTS query_cache_notify_replaced ON askwealth.query_cache_embeddings;
        DROP TRIGGER IF EXISTS query_cache_notify_config ON askwealth.query_cache_config;
        DROP TRIGGER IF EXISTS query_cache_notify_config_truncates ON askwealth.query_cache_config;
        DROP FUNCTION IF EXISTS askwealth.query_cache_notify_deleted();
        DROP FUNCTION IF EXISTS askwealth.query_cache_notify_changed();
        DROP FUNCTION askwealth.query_cache_lookup_exact(bytea, text, text, text, boolean);
        """ + "\n\n" + InitialQueryCacheSql.LookupExact;

    internal const string LookupExact = """
        -- The entry whose normalized question has this hash (a private entry of the user first, then the newest), with its
        -- expiry; records the hit unless p_record_hit is false. Reads only when it is false: it runs on a standby.
        CREATE FUNCTION askwealth.query_cache_lookup_exact(
            p_query_hash bytea, p_tenant_id text, p_user_id text, p_embedding_model text, p_record_hit boolean DEFAULT true)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision,
                       user_message_id uuid, assistant_message_id uuid, expires_at timestamptz)
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
            SELECT e.id, e.query_text, e.answer, 1.0::double precision, e.user_message_id, e.assistant_message_id, e.expires_at
            FROM askwealth.query_cache_embeddings e WHERE e.id = v_id AND e.tenant_id = p_tenant_id;
        END $fn$;
        """;
}
