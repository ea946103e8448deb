namespace QueryCache.Migrations.Migrations;

/// <content>FastLookups' cleanup and stats functions.</content>
internal static partial class FastLookupsSql
{
    /// <summary>query_cache_cleanup and query_cache_stats as this migration made them.</summary>
    internal const string Maintenance = """
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
                SELECT coalesce(sum(s.entries), 0) - v_tenant.max_cache_entries INTO v_excess
                FROM askwealth.query_cache_tenant_sizes s WHERE s.tenant_id = v_tenant.tenant_id;
                IF v_excess > 0 THEN
                    DELETE FROM askwealth.query_cache_embeddings
                    WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                                 LEFT JOIN askwealth.query_cache_hits h ON h.entry_id = e.id
                                 WHERE e.tenant_id = v_tenant.tenant_id
                                 ORDER BY coalesce(h.last_hit_at, e.created_at), e.id
                                 LIMIT least(v_excess, p_batch_size) FOR UPDATE OF e SKIP LOCKED);
                    GET DIAGNOSTICS v_deleted = ROW_COUNT;
                    RETURN v_deleted;
                END IF;
            END LOOP;

            SELECT coalesce(sum(s.entries), 0) - (SELECT g.max_cache_entries FROM askwealth.query_cache_config g WHERE g.tenant_id IS NULL)
            INTO v_excess FROM askwealth.query_cache_tenant_sizes s;
            IF v_excess > 0 THEN
                DELETE FROM askwealth.query_cache_embeddings
                WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                             LEFT JOIN askwealth.query_cache_hits h ON h.entry_id = e.id
                             ORDER BY coalesce(h.last_hit_at, e.created_at), e.id
                             LIMIT least(v_excess, p_batch_size) FOR UPDATE OF e SKIP LOCKED);
                GET DIAGNOSTICS v_deleted = ROW_COUNT;
                RETURN v_deleted;
            END IF;
            RETURN 0;
        END $fn$;

        -- Entry and hit figures for one tenant, or for the whole cache when p_tenant_id is NULL.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_stats(p_tenant_id text DEFAULT NULL)
        RETURNS TABLE (total_entries bigint, total_hits bigint, expired_entries bigint, hit_entries bigint,
                       tenant_count bigint, oldest_entry_at timestamptz, newest_entry_at timestamptz, last_hit_at timestamptz)
        LANGUAGE sql STABLE AS $fn$
            SELECT count(*),
                   coalesce(sum(h.hit_count), 0)::bigint,
                   count(*) FILTER (WHERE e.expires_at <= now()),
                   count(h.entry_id),
                   count(DISTINCT e.tenant_id),
                   min(e.created_at), max(e.created_at), max(h.last_hit_at)
            FROM askwealth.query_cache_embeddings e
            LEFT JOIN askwealth.query_cache_hits h ON h.entry_id = e.id
            WHERE p_tenant_id IS NULL OR e.tenant_id = p_tenant_id
        $fn$;
        """;
}
