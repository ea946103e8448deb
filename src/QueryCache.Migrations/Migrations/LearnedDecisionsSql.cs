using QueryCache.Data;

namespace QueryCache.Migrations.Migrations;

/// <summary>The SQL of migration LearnedDecisions: the k nearest candidates of a lookup, without those withdrawn for its question.</summary>
internal static class LearnedDecisionsSql
{
    public static string Up(EmbeddingColumn column) => FastLookupsSql.Fill(Candidates, column);

    public const string Down = "DROP FUNCTION IF EXISTS askwealth.query_cache_candidates(vector, text, text, text, bytea, integer);";

    private const string Candidates = """
        -- Up to p_k nearest live entries of the tenant (shared, or private to p_user_id) and embedding model, nearest
        -- first, whatever their similarity, leaving out entries reported wrong for this question (p_query_hash, the
        -- SHA-256 of the normalized question; NULL: none left out). Every row carries the settings in force; with no entry
        -- (or the cache disabled) one row whose entry columns are NULL. The path is query_cache_nearest's: an exact scan
        -- for a small tenant, else the HNSW walk (iterative where the tenant filter could empty it) plus the entries not
        -- yet indexed. Reads only: it runs on a standby.
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
            v_table_rows real;
            v_share double precision;
            v_threshold double precision;
            v_enabled boolean;
            v_guard boolean;
            v_terms text[];
            v_ef_search text := current_setting('querycache.ef_search', true);
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
                   (SELECT t.reltuples FROM pg_class t WHERE t.oid = 'askwealth.query_cache_embeddings'::regclass)
            INTO v_threshold, v_enabled, v_guard, v_terms, v_entries, v_table_rows
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
                    IF coalesce(v_ef_search, '') <> '' THEN
                        v_ef_search := set_config('hnsw.ef_search', v_ef_search, true);
                    END IF;
                    v_share := CASE WHEN v_table_rows > 0 THEN v_entries / v_table_rows END;
                    IF v_share IS NULL OR (v_share < 1 AND current_setting('hnsw.ef_search')::int * ln(1 - v_share) > -27.6) THEN
                        v_ef_search := set_config('hnsw.iterative_scan', 'relaxed_order', true);
                    END IF;
                    RETURN QUERY
                    SELECT n.id, n.query_text, n.answer, 1 - n.distance, n.user_message_id, n.assistant_message_id,
                           v_threshold, v_enabled, v_guard, v_terms
                    FROM ((SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, e.embedding <=> v_query AS distance
                           FROM askwealth.query_cache_embeddings e
                           WHERE e.tenant_id = p_tenant_id
                             AND e.embedding_model = p_embedding_model
                             AND e.indexed
                             AND (e.user_id IS NULL OR e.user_id = p_user_id)
                             AND (e.expires_at IS NULL OR e.expires_at > now())
                             AND NOT EXISTS (SELECT 1 FROM askwealth.query_cache_withdrawn w
                                             WHERE w.tenant_id = p_tenant_id AND w.query_hash = p_query_hash AND w.entry_id = e.id)
                           ORDER BY e.embedding <=> v_query
                           LIMIT p_k)
                          UNION ALL
                          (SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, (e.embedding <=> v_query) + 0
                           FROM askwealth.query_cache_embeddings e
                           WHERE e.tenant_id = p_tenant_id
                             AND e.embedding_model = p_embedding_model
                             AND NOT e.indexed
                             AND (e.user_id IS NULL OR e.user_id = p_user_id)
                             AND (e.expires_at IS NULL OR e.expires_at > now())
                             AND NOT EXISTS (SELECT 1 FROM askwealth.query_cache_withdrawn w
                                             WHERE w.tenant_id = p_tenant_id AND w.query_hash = p_query_hash AND w.entry_id = e.id)
                           ORDER BY 6
                           LIMIT p_k)) n
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
