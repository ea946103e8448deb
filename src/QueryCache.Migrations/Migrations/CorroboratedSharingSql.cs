namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration CorroboratedSharing: a tenant's new shared entries can wait, private to the user who asked, until
/// <c>share_after_askers</c> distinct users have asked questions they answer (or an approval shares them), so that one
/// user cannot plant an answer for everyone.
/// </summary>
internal static class CorroboratedSharingSql
{
    /// <summary>The functions; {column} and {dimensions} are filled from the embedding column.</summary>
    public const string Up = """
        -- The number of distinct askers a tenant's new shared entries wait for: the tenant's override, else the global one.
        CREATE FUNCTION askwealth.query_cache_share_after_askers(p_tenant_id text)
        RETURNS integer LANGUAGE sql STABLE AS $fn$
            SELECT coalesce((SELECT c.share_after_askers FROM askwealth.query_cache_config c WHERE c.tenant_id = p_tenant_id),
                            (SELECT c.share_after_askers FROM askwealth.query_cache_config c WHERE c.tenant_id IS NULL), 1)
        $fn$;

        -- After a store by user p_user_id: the p_k nearest entries of the tenant that wait for corroboration and that other
        -- users asked, with the settings in force (the same columns as query_cache_candidates). Nothing in a tenant that
        -- shares at once. An exact comparison over the few pending entries, through their partial index.
        CREATE FUNCTION askwealth.query_cache_pending_candidates(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text, p_query_hash bytea, p_k integer)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision, user_message_id uuid,
                       assistant_message_id uuid, similarity_threshold double precision, cache_enabled boolean,
                       guard_enabled boolean, contrast_terms text[])
        LANGUAGE plpgsql STABLE
        SET jit = off
        AS $fn$
        DECLARE
            v_query {column};
        BEGIN
            PERFORM askwealth.query_cache_check_scope(p_tenant_id, p_embedding_model);
            IF p_user_id IS NULL OR p_user_id = '' THEN
                RAISE EXCEPTION 'query cache: corroboration needs the user who asks'
                    USING ERRCODE = '22023', HINT = 'Pass the id of the user asking.';
            END IF;
            IF p_embedding IS NULL OR vector_dims(p_embedding) <> {dimensions} THEN
                RAISE EXCEPTION 'query cache: the embedding has % dimensions, the cache stores {dimensions}', vector_dims(p_embedding)
                    USING ERRCODE = '22023', HINT = 'Embed with the model the cache was created for.';
            END IF;
            IF p_k IS NULL OR p_k NOT BETWEEN 1 AND 100 THEN
                RAISE EXCEPTION 'query cache: % candidates asked for; ask for 1 to 100', p_k USING ERRCODE = '22023';
            END IF;
            IF askwealth.query_cache_share_after_askers(p_tenant_id) <= 1 THEN
                RETURN;
            END IF;
            v_query := p_embedding::{column};
            RETURN QUERY
            SELECT n.id, n.query_text, n.answer, 1 - n.distance, n.user_message_id, n.assistant_message_id,
                   c.similarity_threshold, c.cache_enabled, c.guard_enabled, c.contrast_terms
            FROM askwealth.query_cache_effective_config(p_tenant_id) c
            CROSS JOIN LATERAL (
                SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, (e.embedding <=> v_query) + 0 AS distance
                FROM askwealth.query_cache_embeddings e
                WHERE e.tenant_id = p_tenant_id
                  AND e.embedding_model = p_embedding_model
                  AND e.sharing = 'pending'
                  AND e.user_id <> p_user_id
                  AND (e.expires_at IS NULL OR e.expires_at > now())
                  AND NOT EXISTS (SELECT 1 FROM askwealth.query_cache_withdrawn w
                                  WHERE w.tenant_id = p_tenant_id AND w.query_hash = p_query_hash AND w.entry_id = e.id)
                ORDER BY 6
                LIMIT p_k) n
            WHERE c.cache_enabled
            ORDER BY n.distance;
        END $fn$;

        -- Counts p_user_id, once, as an asker of a pending entry (the user who stored it counts already); shares the entry
        -- with the whole tenant when that makes share_after_askers distinct askers. True when the entry answers the whole
        -- tenant (now or already); false when it still waits, is gone, or is the user's own.
        CREATE FUNCTION askwealth.query_cache_corroborate(p_tenant_id text, p_entry_id bigint, p_user_id text)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_entry record;
            v_askers bigint;
        BEGIN
            IF p_tenant_id IS NULL OR p_tenant_id = '' OR p_user_id IS NULL OR p_user_id = '' THEN
                RAISE EXCEPTION 'query cache: corroboration needs a tenant and a user' USING ERRCODE = '22023';
            END IF;
            SELECT e.user_id, e.asked_by, e.sharing INTO v_entry
            FROM askwealth.query_cache_embeddings e WHERE e.tenant_id = p_tenant_id AND e.id = p_entry_id
            FOR UPDATE;
            IF NOT FOUND OR v_entry.asked_by = p_user_id THEN
                RETURN false;
            END IF;
            IF v_entry.sharing IS DISTINCT FROM 'pending' THEN
                RETURN v_entry.user_id IS NULL;
            END IF;
            INSERT INTO askwealth.query_cache_askers (tenant_id, entry_id, user_id) VALUES (p_tenant_id, p_entry_id, p_user_id)
            ON CONFLICT DO NOTHING;
            SELECT 1 + count(*) INTO v_askers FROM askwealth.query_cache_askers a
            WHERE a.tenant_id = p_tenant_id AND a.entry_id = p_entry_id;
            IF v_askers < askwealth.query_cache_share_after_askers(p_tenant_id) THEN
                RETURN false;
            END IF;
            UPDATE askwealth.query_cache_embeddings SET user_id = NULL, sharing = 'corroborated', shared_at = now()
            WHERE tenant_id = p_tenant_id AND id = p_entry_id;
            RETURN true;
        END $fn$;

        -- Shares a pending entry with the whole tenant now: the approval of a verifier or a moderator. False when the
        -- entry is gone or was not pending.
        CREATE FUNCTION askwealth.query_cache_approve_sharing(p_tenant_id text, p_entry_id bigint)
        RETURNS boolean LANGUAGE sql VOLATILE AS $fn$
            WITH approved AS (
                UPDATE askwealth.query_cache_embeddings SET user_id = NULL, sharing = 'approved', shared_at = now()
                WHERE tenant_id = p_tenant_id AND id = p_entry_id AND sharing = 'pending'
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM approved)
        $fn$;
        """;

    /// <summary>Where row-level security is on, the new table gets its policies too.</summary>
    public const string ReapplyRowLevelSecurity = """
        DO $do$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'askwealth' AND p.policyname LIKE 'query\_cache\_%') THEN
                PERFORM askwealth.query_cache_enable_row_level_security();
            END IF;
        END $do$;
        """;

    public const string Down = """
        DROP FUNCTION askwealth.query_cache_approve_sharing(text, bigint);
        DROP FUNCTION askwealth.query_cache_corroborate(text, bigint, text);
        DROP FUNCTION askwealth.query_cache_pending_candidates(vector, text, text, text, bytea, integer);
        DROP FUNCTION askwealth.query_cache_share_after_askers(text);
        """;
}
