namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration GenericLookupPlans: what a lookup paid around its walk, found with pg_stat_statements (track =
/// all) on 100k entries at 1536 dimensions. First, PostgreSQL plans a statement with parameters afresh for its first five
/// runs, then keeps a generic plan only if that looks no dearer than the fresh ones; the lookup's final read (the walked
/// entries merged with the unindexed ones) never passed that test and was planned at every call (0.27 ms of a 4.8 ms
/// lookup). Its plan does not depend on the values, nor does any other kept statement of these functions, so they keep
/// one plan per statement; a tenant's own graph is walked by a statement planned per call (EXECUTE), which this setting
/// does not touch. A later migration that redefines one of these functions restates the setting in its definition.
/// Second, <c>query_cache_declare_tenant</c>, which every scope check CALLs, was an SQL procedure, whose body PostgreSQL
/// plans at each call; as PL/pgSQL its plan is kept for the session (the scope check: 0.09 → 0.02 ms). Together the
/// function's own work around its walk went from 0.88 to 0.30 ms.
/// </summary>
internal static class GenericLookupPlansSql
{
    public const string Up = """
        CREATE OR REPLACE PROCEDURE askwealth.query_cache_declare_tenant(p_tenant_id text)
        LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM set_config('querycache.tenant_id', coalesce(p_tenant_id, ''), true),
                    set_config('querycache.all_tenants', CASE WHEN p_tenant_id IS NULL THEN 'on' ELSE 'off' END, true);
        END $fn$;
        ALTER FUNCTION askwealth.query_cache_candidates(vector, text, text, text, bytea, integer) SET plan_cache_mode = force_generic_plan;
        ALTER FUNCTION askwealth.query_cache_pending_candidates(vector, text, text, text, bytea, integer) SET plan_cache_mode = force_generic_plan;
        """;

    public const string Down = """
        CREATE OR REPLACE PROCEDURE askwealth.query_cache_declare_tenant(p_tenant_id text)
        LANGUAGE sql AS $fn$
            SELECT set_config('querycache.tenant_id', coalesce(p_tenant_id, ''), true),
                   set_config('querycache.all_tenants', CASE WHEN p_tenant_id IS NULL THEN 'on' ELSE 'off' END, true)
        $fn$;
        ALTER FUNCTION askwealth.query_cache_candidates(vector, text, text, text, bytea, integer) RESET plan_cache_mode;
        ALTER FUNCTION askwealth.query_cache_pending_candidates(vector, text, text, text, bytea, integer) RESET plan_cache_mode;
        """;
}
