using System.Globalization;

namespace QueryCache.Migrations.Migrations;

/// <summary>The functions of migration AddAnswerCorrectness: the settings in force gain the guard's, and the nearest-entry lookup.</summary>
internal static class AnswerCorrectnessSql
{
    public static string Up(int dimensions) => EffectiveConfig + "\n\n" + Nearest(dimensions);

    /// <summary>This migration's <c>query_cache_nearest</c>.</summary>
    public static string Nearest(int dimensions) =>
        NearestTemplate.Replace("{dimensions}", dimensions.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public const string Down = """
        DROP FUNCTION IF EXISTS askwealth.query_cache_nearest(vector, text, text, text);
        DROP FUNCTION IF EXISTS askwealth.query_cache_effective_config(text);
        CREATE FUNCTION askwealth.query_cache_effective_config(p_tenant_id text)
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

    private const string EffectiveConfig = """
        -- The global settings with the tenant's overrides applied (a tenant's NULL column inherits the global value),
        -- now with the lexical guard's switch and contrast terms.
        DROP FUNCTION IF EXISTS askwealth.query_cache_effective_config(text);
        CREATE FUNCTION askwealth.query_cache_effective_config(p_tenant_id text)
        RETURNS TABLE (similarity_threshold double precision, cache_enabled boolean, max_cache_entries integer, default_ttl interval,
                       guard_enabled boolean, contrast_terms text[])
        LANGUAGE sql STABLE AS $fn$
            SELECT coalesce(t.similarity_threshold, g.similarity_threshold),
                   coalesce(t.cache_enabled, g.cache_enabled),
                   coalesce(t.max_cache_entries, g.max_cache_entries),
                   coalesce(t.default_ttl, g.default_ttl),
                   coalesce(t.guard_enabled, g.guard_enabled),
                   coalesce(t.contrast_terms, g.contrast_terms)
            FROM askwealth.query_cache_config g
            LEFT JOIN askwealth.query_cache_config t ON t.tenant_id = p_tenant_id
            WHERE g.tenant_id IS NULL
        $fn$;
        """;

    private const string NearestTemplate = """
        -- The nearest live entry of the tenant (shared, or private to p_user_id) and embedding model, whatever its
        -- similarity, with the settings in force: one row, whose entry columns are NULL when there is no entry (or the
        -- cache is disabled). The caller applies the threshold, then checks the candidate (lexical guard, verifier), so a
        -- miss still tells how close the nearest entry came; it records the hit itself. Reads only: it runs on a standby.
        CREATE FUNCTION askwealth.query_cache_nearest(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision, user_message_id uuid,
                       assistant_message_id uuid, similarity_threshold double precision, cache_enabled boolean,
                       guard_enabled boolean, contrast_terms text[])
        LANGUAGE plpgsql STABLE
        SET hnsw.iterative_scan = 'strict_order'
        SET plan_cache_mode = 'force_custom_plan'
        AS $fn$
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

            SELECT c.similarity_threshold, c.cache_enabled, c.guard_enabled, c.contrast_terms
            INTO similarity_threshold, cache_enabled, guard_enabled, contrast_terms
            FROM askwealth.query_cache_effective_config(p_tenant_id) c;
            IF coalesce(cache_enabled, false) THEN
                SELECT e.id, e.query_text, e.answer, 1 - (e.embedding <=> p_embedding), e.user_message_id, e.assistant_message_id
                INTO entry_id, query_text, answer, similarity, user_message_id, assistant_message_id
                FROM askwealth.query_cache_embeddings e
                WHERE e.tenant_id = p_tenant_id
                  AND e.embedding_model = p_embedding_model
                  AND (e.user_id IS NULL OR e.user_id = p_user_id)
                  AND (e.expires_at IS NULL OR e.expires_at > now())
                ORDER BY e.embedding <=> p_embedding
                LIMIT 1;
            END IF;
            RETURN NEXT;
        END $fn$;
        """;
}
