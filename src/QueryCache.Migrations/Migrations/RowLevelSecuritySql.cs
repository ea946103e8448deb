namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration RowLevelSecurity: the declarations a session makes of the tenant it works for (or of all tenants,
/// for maintenance), the policies that restrict every cache table with a tenant to the declared one — created by
/// <c>query_cache_enable_row_level_security()</c>, removed by <c>..._disable_...</c>, never by the migration — and
/// <c>query_cache_grant_to(role)</c>, what a login role needs to run the service and nothing more.
/// </summary>
internal static class RowLevelSecuritySql
{
    public const string Up = """
        -- Declares, for the rest of the transaction, the tenant whose cache rows it reads and writes under row-level
        -- security; NULL declares every tenant (the cleanup, the backfill, hit and index passes over several tenants, the
        -- global administration). The service runs it in the same round trip as each statement.
        CREATE PROCEDURE askwealth.query_cache_declare_tenant(p_tenant_id text)
        LANGUAGE sql AS $fn$
            SELECT set_config('querycache.tenant_id', coalesce(p_tenant_id, ''), true),
                   set_config('querycache.all_tenants', CASE WHEN p_tenant_id IS NULL THEN 'on' ELSE 'off' END, true)
        $fn$;

        -- Every function that takes a scope checks it here first; it now also declares the scope's tenant, so the lookup
        -- functions run under row-level security as one statement (no declaration beside them; a standby runs them alone).
        CREATE OR REPLACE FUNCTION askwealth.query_cache_check_scope(p_tenant_id text, p_embedding_model text)
        RETURNS void LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
            IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
                RAISE EXCEPTION 'query cache: tenant_id is empty'
                    USING ERRCODE = '22023', HINT = 'Every cache call names its tenant; pass the tenant id of the request.';
            END IF;
            IF p_embedding_model IS NULL OR p_embedding_model = '' THEN
                RAISE EXCEPTION 'query cache: embedding_model is empty'
                    USING ERRCODE = '22023', HINT = 'Pass the name of the model that produced the embeddings, for example text-embedding-3-small.';
            END IF;
            CALL askwealth.query_cache_declare_tenant(p_tenant_id);
        END $fn$;

        -- Whether a row of this tenant is one the session declared (the policies' test; inlined into them).
        CREATE FUNCTION askwealth.query_cache_declared(p_tenant_id text)
        RETURNS boolean LANGUAGE sql STABLE AS $fn$
            SELECT p_tenant_id = current_setting('querycache.tenant_id', true) OR current_setting('querycache.all_tenants', true) = 'on'
        $fn$;

        -- Turns row-level security on for every cache table with a tenant_id: a session sees and writes only the rows of
        -- the tenant it declared (query_cache_declare_tenant), every tenant's after declaring NULL, none before. Global
        -- rows (tenant_id NULL: the global settings, labels and fits) are readable by every tenant and written only by
        -- all-tenant work. Superusers, roles with BYPASSRLS and the tables' owner are not restricted.
        CREATE FUNCTION askwealth.query_cache_enable_row_level_security()
        RETURNS integer LANGUAGE plpgsql AS $fn$
        DECLARE
            v_table record;
            v_count integer := 0;
        BEGIN
            PERFORM askwealth.query_cache_disable_row_level_security();
            FOR v_table IN
                SELECT c.relname, NOT a.attnotnull AS has_global_rows
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                WHERE n.nspname = 'askwealth' AND c.relkind = 'r' AND c.relname LIKE 'query\_cache\_%'
                ORDER BY c.relname
            LOOP
                EXECUTE format('ALTER TABLE askwealth.%I ENABLE ROW LEVEL SECURITY', v_table.relname);
                IF v_table.has_global_rows THEN
                    EXECUTE format('CREATE POLICY query_cache_read ON askwealth.%I FOR SELECT USING (tenant_id IS NULL OR askwealth.query_cache_declared(tenant_id))', v_table.relname);
                    EXECUTE format('CREATE POLICY query_cache_insert ON askwealth.%I FOR INSERT WITH CHECK (askwealth.query_cache_declared(tenant_id))', v_table.relname);
                    EXECUTE format('CREATE POLICY query_cache_update ON askwealth.%I FOR UPDATE USING (askwealth.query_cache_declared(tenant_id)) WITH CHECK (askwealth.query_cache_declared(tenant_id))', v_table.relname);
                    EXECUTE format('CREATE POLICY query_cache_delete ON askwealth.%I FOR DELETE USING (askwealth.query_cache_declared(tenant_id))', v_table.relname);
                ELSE
                    EXECUTE format('CREATE POLICY query_cache_tenant ON askwealth.%I USING (askwealth.query_cache_declared(tenant_id)) WITH CHECK (askwealth.query_cache_declared(tenant_id))', v_table.relname);
                END IF;
                v_count := v_count + 1;
            END LOOP;
            RETURN v_count;
        END $fn$;

        -- Turns row-level security off again and drops the policies; no row is touched either way. Returns the tables.
        CREATE FUNCTION askwealth.query_cache_disable_row_level_security()
        RETURNS integer LANGUAGE plpgsql AS $fn$
        DECLARE
            v_policy record;
            v_table record;
            v_count integer := 0;
        BEGIN
            FOR v_policy IN
                SELECT p.policyname, p.tablename FROM pg_policies p
                WHERE p.schemaname = 'askwealth' AND p.policyname LIKE 'query\_cache\_%'
            LOOP
                EXECUTE format('DROP POLICY %I ON askwealth.%I', v_policy.policyname, v_policy.tablename);
            END LOOP;
            FOR v_table IN
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'askwealth' AND c.relkind = 'r' AND c.relname LIKE 'query\_cache\_%' AND c.relrowsecurity
            LOOP
                EXECUTE format('ALTER TABLE askwealth.%I DISABLE ROW LEVEL SECURITY', v_table.relname);
                v_count := v_count + 1;
            END LOOP;
            RETURN v_count;
        END $fn$;

        -- Grants a login role what the service needs at run time: the cache's tables (read and write rows), the message
        -- table and the Q&A view (read), the history of migrations (read), the cache's functions and procedures; no DDL,
        -- no ownership, no BYPASSRLS, and not the functions that turn row-level security on or off or grant.
        CREATE FUNCTION askwealth.query_cache_grant_to(p_role text)
        RETURNS void LANGUAGE plpgsql AS $fn$
        DECLARE
            v_name record;
        BEGIN
            IF p_role IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = p_role) THEN
                RAISE EXCEPTION 'query cache: there is no role %', coalesce(quote_literal(p_role), 'NULL')
                    USING ERRCODE = '42704', HINT = 'Create it first, e.g. CREATE ROLE querycache_app LOGIN PASSWORD ''...'', then grant to it.';
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = p_role AND (r.rolsuper OR r.rolbypassrls)) THEN
                RAISE EXCEPTION 'query cache: role % is a superuser or bypasses row-level security', p_role
                    USING ERRCODE = '42501', HINT = 'Grant to an ordinary login role; row-level security does not restrict this one.';
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA askwealth TO %I', p_role);
            FOR v_name IN
                SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'askwealth' AND c.relkind IN ('r', 'S') AND c.relname LIKE 'query\_cache\_%'
            LOOP
                EXECUTE format(CASE v_name.relkind WHEN 'S' THEN 'GRANT USAGE, SELECT ON SEQUENCE askwealth.%I TO %I'
                                                   ELSE 'GRANT SELECT, INSERT, UPDATE, DELETE ON askwealth.%I TO %I' END,
                               v_name.relname, p_role);
            END LOOP;
            EXECUTE format('GRANT SELECT ON askwealth.__query_cache_migrations TO %I', p_role);
            IF to_regclass('askwealth.message') IS NOT NULL THEN
                EXECUTE format('GRANT SELECT ON askwealth.message TO %I', p_role);
            END IF;
            IF to_regclass('askwealth.v_cached_qa_pairs') IS NOT NULL THEN
                EXECUTE format('GRANT SELECT ON askwealth.v_cached_qa_pairs TO %I', p_role);
            END IF;
            FOR v_name IN
                SELECT p.oid::regprocedure AS signature, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'askwealth' AND p.proname LIKE 'query\_cache\_%'
                  AND p.proname NOT IN ('query_cache_enable_row_level_security', 'query_cache_disable_row_level_security',
                                        'query_cache_grant_to', 'query_cache_install_message_triggers', 'query_cache_remove_message_triggers',
                                        'query_cache_define_qa_view')
            LOOP
                EXECUTE format('GRANT EXECUTE ON %s %s TO %I', CASE v_name.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                               v_name.signature, p_role);
            END LOOP;
        END $fn$;
        REVOKE EXECUTE ON FUNCTION askwealth.query_cache_grant_to(text), askwealth.query_cache_enable_row_level_security(),
            askwealth.query_cache_disable_row_level_security() FROM PUBLIC;
        """;

    public const string Down = """
        SELECT askwealth.query_cache_disable_row_level_security();
        DROP FUNCTION askwealth.query_cache_grant_to(text);
        DROP FUNCTION askwealth.query_cache_enable_row_level_security();
        DROP FUNCTION askwealth.query_cache_disable_row_level_security();
        DROP FUNCTION askwealth.query_cache_declared(text);
        """ + "\n" + InitialQueryCacheSql.CheckScope + "\n" + """
        DROP PROCEDURE askwealth.query_cache_declare_tenant(text);
        """;
}
