namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration TenantKeys: the tenant leads every unique key (entries, hit counts, the message key), so the
/// tables can be distributed by tenant; hit counts are recorded by tenant and entry.
/// </summary>
internal static class TenantKeysSql
{
    /// <summary>Between adding the hit table's tenant column and making it part of the key.</summary>
    public const string FillHitTenants = """
        UPDATE askwealth.query_cache_hits h SET tenant_id = e.tenant_id
        FROM askwealth.query_cache_embeddings e WHERE e.id = h.entry_id;
        DELETE FROM askwealth.query_cache_hits WHERE tenant_id IS NULL;
        ALTER TABLE askwealth.query_cache_hits ALTER COLUMN tenant_id SET NOT NULL;
        """;

    public const string Up = """
        -- Adds p_hits to the hit count of the tenant's entry and stamps the last hit; false when the entry is gone (also
        -- when it is deleted meanwhile). Keyed by tenant, so under a tenant-distributed table it touches one shard.
        CREATE FUNCTION askwealth.query_cache_record_hit(p_tenant_id text, p_entry_id bigint, p_hits integer DEFAULT 1)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
            IF p_hits IS NULL OR p_hits < 1 THEN
                RAISE EXCEPTION 'query cache: hit count % must be at least 1', p_hits USING ERRCODE = '22023';
            END IF;
            INSERT INTO askwealth.query_cache_hits AS h (tenant_id, entry_id, hit_count, last_hit_at)
            SELECT e.tenant_id, e.id, p_hits, now() FROM askwealth.query_cache_embeddings e
            WHERE e.tenant_id = p_tenant_id AND e.id = p_entry_id
            ON CONFLICT (tenant_id, entry_id) DO UPDATE SET hit_count = h.hit_count + excluded.hit_count, last_hit_at = excluded.last_hit_at;
            RETURN FOUND;
        EXCEPTION WHEN foreign_key_violation THEN
            RETURN false;
        END $fn$;

        -- The entry-only form, kept for SQL callers (and the SQL lookup functions): finds the entry's tenant first.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_record_hit(p_entry_id bigint, p_hits integer DEFAULT 1)
        RETURNS boolean LANGUAGE sql VOLATILE AS $fn$
            SELECT coalesce(askwealth.query_cache_record_hit(e.tenant_id, e.id, p_hits), false)
            FROM (SELECT NULL) one LEFT JOIN askwealth.query_cache_embeddings e ON e.id = p_entry_id
        $fn$;
        """;

    public const string Down = """
        DROP FUNCTION IF EXISTS askwealth.query_cache_record_hit(text, bigint, integer);
        """ + "\n\n" + FastLookupsSql.RecordHit;
}
