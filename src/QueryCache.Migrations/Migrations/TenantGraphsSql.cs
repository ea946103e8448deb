using QueryCache.Data;

namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration TenantGraphs: a tenant can have an HNSW graph of its own (a partial index of its entries), which
/// its lookups walk unfiltered, so the walk of a tenant holding a large share of the table reads none of the other
/// tenants' rows, in a graph of its entries alone.
/// </summary>
internal static class TenantGraphsSql
{
    public static string Up(EmbeddingColumn column) => FastLookupsSql.Fill(Functions, column) + "\n\n" + CandidatesFunction(column);

    /// <summary>This migration's lookup, which <see cref="PrefixGraphsSql"/> replaced and restores going down.</summary>
    internal static string CandidatesFunction(EmbeddingColumn column) => FastLookupsSql.Fill(Candidates
        .Replace("{own_graph_walk}", OwnGraphWalk(), StringComparison.Ordinal)
        .Replace("{shared_graph_walk}", SharedGraphWalk, StringComparison.Ordinal),
        column);

    /// <summary>A tenant's own graph's walk, with parameters: it is planned per call (EXECUTE … USING).</summary>
    internal static string OwnGraphWalk((string Dimensions, string VectorType)? prefix = null) => Walk("$1", "$2", "$3", "$4", "$5", "$6", prefix);

    /// <summary>The shared graph's walk, with the function's variables: its plan is kept.</summary>
    internal static string SharedGraphWalk => Walk("v_query", "p_tenant_id", "p_embedding_model", "p_user_id", "v_withdrawn", "p_k");

    /// <summary>
    /// The walk's one text, with its values as the function's variables (a kept plan) or as parameters (EXECUTE). Its rows
    /// are ordered where they are merged, so the arrays need no order of their own. With <paramref name="prefix"/> (the
    /// SQL of the graph's dimension count and of the column's vector type), the walk is ordered by the embeddings' first
    /// dimensions, as a prefix graph is built, and its first <see cref="PrefixCandidates"/> are re-ranked on all of them.
    /// </summary>
    private static string Walk(string query, string tenant, string model, string user, string withdrawn, string k,
        (string Dimensions, string VectorType)? prefix = null) => prefix is not { } p ? $"""
                            SELECT array_agg(n.id), array_agg(n.distance)
                            FROM (SELECT e.id, e.embedding <=> {query} AS distance
                                  FROM askwealth.query_cache_embeddings e
                                  {Filter(tenant, model, user, withdrawn)}
                                  ORDER BY e.embedding <=> {query}
                                  LIMIT {k}) n
        """ : $"""
                            SELECT array_agg(n.id), array_agg(n.distance)
                            FROM (SELECT c.id, c.embedding <=> {query} AS distance
                                  FROM (SELECT e.id, e.embedding
                                        FROM askwealth.query_cache_embeddings e
                                        {Filter(tenant, model, user, withdrawn).Replace("\n", "\n      ", StringComparison.Ordinal)}
                                        ORDER BY subvector(e.embedding, 1, {p.Dimensions})::{p.VectorType}({p.Dimensions}) <=> subvector({query}, 1, {p.Dimensions})::{p.VectorType}({p.Dimensions})
                                        LIMIT greatest({k}, {PrefixCandidates})) c
                                  ORDER BY c.embedding <=> {query}
                                  LIMIT {k}) n
        """;

    /// <summary>How many of a prefix graph's nearest entries are re-ranked on every dimension.</summary>
    internal const int PrefixCandidates = 40;

    private static string Filter(string tenant, string model, string user, string withdrawn) => $"""
        WHERE e.tenant_id = {tenant}
                                    AND e.embedding_model = {model}
                                    AND e.indexed
                                    AND (e.user_id IS NULL OR e.user_id = {user})
                                    AND (e.expires_at IS NULL OR e.expires_at > now())
                                    AND e.id <> ALL ({withdrawn})
        """;

    public static string Down(EmbeddingColumn column) => $"""
        DO $do$
        DECLARE
            v_index text;
        BEGIN
            FOR v_index IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                           WHERE i.indrelid = 'askwealth.query_cache_embeddings'::regclass AND c.relname LIKE 'ix_query_cache_graph_%'
            LOOP
                EXECUTE format('DROP INDEX askwealth.%I', v_index);
            END LOOP;
        END $do$;
        DROP FUNCTION askwealth.query_cache_tenant_graph_statement(text, boolean);
        {LearnedDecisionsSql.Up(column)}
        DROP FUNCTION askwealth.query_cache_tenant_graph(text);
        DROP FUNCTION askwealth.query_cache_tenant_graph_name(text);
        """;

    private const string Functions = GraphFunctions + "\n\n" + StatementFunction;

    private const string GraphFunctions = """
        -- The name of the tenant's own graph: a digest of the tenant id (an id is any text; an index name is at most 63 bytes).
        -- One expression, so PostgreSQL inlines it where it is called.
        CREATE FUNCTION askwealth.query_cache_tenant_graph_name(p_tenant_id text)
        RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
            SELECT 'ix_query_cache_graph_' || left(md5(p_tenant_id), 24)
        $fn$;

        -- The tenant's own graph, if it has a valid one: a partial HNSW index of its indexed entries.
        CREATE FUNCTION askwealth.query_cache_tenant_graph(p_tenant_id text)
        RETURNS regclass LANGUAGE sql STABLE AS $fn$
            SELECT i.indexrelid::regclass FROM pg_index i
            WHERE i.indexrelid = to_regclass('askwealth.' || askwealth.query_cache_tenant_graph_name(p_tenant_id)) AND i.indisvalid
        $fn$;
        """;

    /// <summary>This migration's statement builder, which <see cref="PrefixGraphsSql"/> replaced and restores going down.</summary>
    internal const string StatementFunction = """
        -- The statement that builds (p_build) or drops the tenant's own graph, for a session outside a transaction: both run
        -- CONCURRENTLY, so lookups and stores go on. The graph is built with the shared graph's operator class and settings.
        -- The tenant id is in the index's predicate, which takes no parameters: it is quoted as a literal (%L).
        CREATE FUNCTION askwealth.query_cache_tenant_graph_statement(p_tenant_id text, p_build boolean)
        RETURNS text LANGUAGE plpgsql STABLE AS $fn$
        DECLARE
            v_name text := askwealth.query_cache_tenant_graph_name(p_tenant_id);
            v_statement text;
        BEGIN
            IF p_tenant_id IS NULL OR p_tenant_id = '' THEN
                RAISE EXCEPTION 'query cache: tenant_id is empty'
                    USING ERRCODE = '22023', HINT = 'Name the tenant whose graph to build or drop.';
            END IF;
            IF NOT p_build THEN
                RETURN format('DROP INDEX CONCURRENTLY IF EXISTS askwealth.%I', v_name);
            END IF;
            IF NOT EXISTS (SELECT 1 FROM askwealth.query_cache_tenant_sizes s WHERE s.tenant_id = p_tenant_id AND s.entries > 0)
               AND NOT EXISTS (SELECT 1 FROM askwealth.query_cache_config c WHERE c.tenant_id = p_tenant_id) THEN
                RAISE EXCEPTION 'query cache: tenant "%" has no entries and no settings', p_tenant_id
                    USING ERRCODE = '22023', HINT = 'Check the tenant id; a graph of its own pays off for a tenant with a large share of the entries.';
            END IF;
            SELECT format('CREATE INDEX CONCURRENTLY %I ON askwealth.query_cache_embeddings USING hnsw (embedding %I) WITH (%s) WHERE tenant_id = %L AND indexed',
                          v_name, o.opcname, array_to_string(c.reloptions, ', '), p_tenant_id)
            INTO v_statement
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_opclass o ON o.oid = i.indclass[0]
            WHERE i.indexrelid = 'askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass;
            RETURN v_statement;
        END $fn$;
        """;

    private const string Candidates = """
        -- Up to p_k nearest live entries of the tenant (shared, or private to p_user_id) and embedding model, nearest
        -- first, whatever their similarity, leaving out entries reported wrong for this question (p_query_hash, the
        -- SHA-256 of the normalized question; NULL: none left out). Every row carries the settings in force; with no entry
        -- (or the cache disabled) one row whose entry columns are NULL. A small tenant is scanned exactly; a larger one
        -- walks its own graph if it has one, else the shared graph (both at querycache.ef_search), iteratively where the
        -- filter could empty the walk; plus the entries not yet indexed.
        -- The walk of a tenant's own graph is planned per call with the tenant as a constant, which is what lets the
        -- planner pick the tenant's partial index. Reads only: it runs on a standby.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_candidates(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text, p_query_hash bytea, p_k integer)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision, user_message_id uuid,
                       assistant_message_id uuid, similarity_threshold double precision, cache_enabled boolean,
                       guard_enabled boolean, contrast_terms text[])
        LANGUAGE plpgsql STABLE
        SET jit = off
        SET enable_seqscan = off
        SET enable_sort = off
        SET hnsw.iterative_scan = 'off'
        SET hnsw.ef_search = {ef_search}
        AS $fn$
        DECLARE
            v_query {column};
            v_entries bigint;
            v_graph_rows real;
            v_own_graph boolean;
            v_share double precision;
            v_threshold double precision;
            v_enabled boolean;
            v_guard boolean;
            v_terms text[];
            v_ef_search text;
            v_withdrawn bigint[];
            v_walked_ids bigint[];
            v_walked_distances double precision[];
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
            IF p_k IS NULL OR p_k NOT BETWEEN 1 AND 100 THEN
                RAISE EXCEPTION 'query cache: % candidates asked for; ask for 1 to 100', p_k USING ERRCODE = '22023';
            END IF;
            v_query := p_embedding::{column};

            SELECT c.similarity_threshold, c.cache_enabled, c.guard_enabled, c.contrast_terms,
                   (SELECT s.entries FROM askwealth.query_cache_tenant_sizes s
                    WHERE s.tenant_id = p_tenant_id AND s.embedding_model = p_embedding_model),
                   -- query_cache_tenant_graph's test, inlined: a SQL function with a FROM is planned at every call.
                   coalesce((SELECT i.indisvalid FROM pg_index i
                             WHERE i.indexrelid = to_regclass('askwealth.' || askwealth.query_cache_tenant_graph_name(p_tenant_id))), false)
            INTO v_threshold, v_enabled, v_guard, v_terms, v_entries, v_own_graph
            FROM askwealth.query_cache_effective_config(p_tenant_id) c;
            IF coalesce(v_enabled, false) AND coalesce(v_entries, 0) > 0 THEN
                IF v_entries <= coalesce(nullif(current_setting('querycache.exact_scan_limit', true), '')::bigint, {exact_scan_limit}) THEN
                    RETURN QUERY
                    SELECT e.id, e.query_text, e.answer, 1 - (e.embedding <=> v_query), e.user_message_id, e.assistant_message_id,
                           v_threshold, v_enabled, v_guard, v_terms
                    FROM askwealth.query_cache_embeddings e
                    WHERE e.tenant_id = p_tenant_id
                      AND e.embedding_model = p_embedding_model
                      AND (e.user_id IS NULL OR e.user_id = p_user_id)
                      AND (e.expires_at IS NULL OR e.expires_at > now())
                      AND NOT EXISTS (SELECT 1 FROM askwealth.query_cache_withdrawn w
                                      WHERE w.tenant_id = p_tenant_id AND w.query_hash = p_query_hash AND w.entry_id = e.id)
                    ORDER BY (e.embedding <=> v_query) + 0
                    LIMIT p_k;
                ELSE
                    IF v_own_graph THEN
                        SELECT sum(s.entries) INTO v_graph_rows FROM askwealth.query_cache_tenant_sizes s WHERE s.tenant_id = p_tenant_id;
                    ELSE
                        SELECT t.reltuples INTO v_graph_rows FROM pg_class t WHERE t.oid = 'askwealth.query_cache_embeddings'::regclass;
                    END IF;
                    v_ef_search := nullif(current_setting('querycache.ef_search', true), '');
                    IF v_ef_search IS NOT NULL THEN
                        v_ef_search := set_config('hnsw.ef_search', v_ef_search, true);
                    END IF;
                    -- The share of the graph the filter keeps: walking ef candidates, about ef × share survive it.
                    v_share := CASE WHEN v_graph_rows > 0 THEN v_entries / v_graph_rows END;
                    IF v_share IS NULL OR (v_share < 1 AND current_setting('hnsw.ef_search')::int * ln(1 - v_share) > -27.6) THEN
                        v_ef_search := set_config('hnsw.iterative_scan', 'relaxed_order', true);
                    END IF;
                    -- The entries withdrawn for the question are left out by id and the rows are read (and merged with
                    -- the entries not yet indexed) by a statement whose plan is kept, so that the walk of a tenant's own
                    -- graph, planned per call, is a small statement: 0.3 ms to plan at 1536 dimensions, where the walk
                    -- and the unindexed entries in one statement took 0.6 ms. The shared graph's walk keeps its plan.
                    IF p_query_hash IS NOT NULL THEN
                        SELECT array_agg(w.entry_id) INTO v_withdrawn FROM askwealth.query_cache_withdrawn w
                        WHERE w.tenant_id = p_tenant_id AND w.query_hash = p_query_hash;
                    END IF;
                    v_withdrawn := coalesce(v_withdrawn, '{}');
                    IF v_own_graph THEN
                        EXECUTE $walk$
        {own_graph_walk}
                        $walk$ INTO v_walked_ids, v_walked_distances
                        USING v_query, p_tenant_id, p_embedding_model, p_user_id, v_withdrawn, p_k;
                    ELSE
        {shared_graph_walk}
                        INTO v_walked_ids, v_walked_distances;
                    END IF;
                    RETURN QUERY
                    SELECT e.id, e.query_text, e.answer, 1 - n.distance, e.user_message_id, e.assistant_message_id,
                           v_threshold, v_enabled, v_guard, v_terms
                    FROM ((SELECT w.id, w.distance FROM unnest(v_walked_ids, v_walked_distances) w (id, distance))
                          UNION ALL
                          (SELECT u.id, (u.embedding <=> v_query) + 0
                           FROM askwealth.query_cache_embeddings u
                           WHERE u.tenant_id = p_tenant_id
                             AND u.embedding_model = p_embedding_model
                             AND NOT u.indexed
                             AND (u.user_id IS NULL OR u.user_id = p_user_id)
                             AND (u.expires_at IS NULL OR u.expires_at > now())
                             AND u.id <> ALL (v_withdrawn)
                           ORDER BY 2
                           LIMIT p_k)) n
                    JOIN askwealth.query_cache_embeddings e ON e.tenant_id = p_tenant_id AND e.id = n.id
                    ORDER BY n.distance
                    LIMIT p_k;
                END IF;
                IF FOUND THEN
                    RETURN;
                END IF;
            END IF;
            similarity_threshold := v_threshold;
            cache_enabled := v_enabled;
            guard_enabled := v_guard;
            contrast_terms := v_terms;
            RETURN NEXT;
        END $fn$;
        """;
}
