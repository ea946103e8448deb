using QueryCache.Data;

namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration LookupsAtWalkCost: every statement that finds an entry by its id names its tenant too, since the
/// primary key is (tenant_id, id) and an id alone scans the whole key (about 1 ms a hit at 100,000 entries, ten times
/// that at a million); and one body for the nearest-entry search, query_cache_candidates, which the other lookups call.
/// </summary>
internal static class LookupsAtWalkCostSql
{
    public const string Up = """
        -- The nearest live entry, whatever its similarity, with the settings in force: query_cache_candidates' first row.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_nearest(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision, user_message_id uuid,
                       assistant_message_id uuid, similarity_threshold double precision, cache_enabled boolean,
                       guard_enabled boolean, contrast_terms text[])
        LANGUAGE sql STABLE AS $fn$
            SELECT * FROM askwealth.query_cache_candidates(p_embedding, p_tenant_id, p_user_id, p_embedding_model, NULL, 1)
        $fn$;

        -- The nearest live entry at or above the threshold (p_threshold, else the tenant's, else the global one); records
        -- the hit unless p_record_hit is false.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_lookup(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text,
            p_threshold double precision DEFAULT NULL, p_record_hit boolean DEFAULT true)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision,
                       user_message_id uuid, assistant_message_id uuid)
        LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_nearest record;
        BEGIN
            IF p_threshold IS NOT NULL AND NOT (p_threshold BETWEEN 0 AND 1) THEN
                RAISE EXCEPTION 'query cache: similarity threshold % is outside [0, 1]', p_threshold
                    USING ERRCODE = '22023', HINT = 'Use a cosine similarity between 0 and 1, for example 0.85.';
            END IF;
            SELECT * INTO v_nearest FROM askwealth.query_cache_candidates(p_embedding, p_tenant_id, p_user_id, p_embedding_model, NULL, 1);
            IF v_nearest.entry_id IS NULL OR v_nearest.similarity < coalesce(p_threshold, v_nearest.similarity_threshold) THEN
                RETURN;
            END IF;
            IF p_record_hit THEN
                PERFORM askwealth.query_cache_record_hit(p_tenant_id, v_nearest.entry_id);
            END IF;
            RETURN QUERY SELECT v_nearest.entry_id, v_nearest.query_text, v_nearest.answer, v_nearest.similarity,
                                v_nearest.user_message_id, v_nearest.assistant_message_id;
        END $fn$;

        """ + "\n" + LookupExact + "\n\n" + IndexPending + "\n\n" + Maintenance;

    public static string Down(EmbeddingColumn column) => string.Join("\n\n",
        FastLookupsSql.Fill(FastLookupsSql.Nearest, column), FastLookupsSql.Lookup,
        "DROP FUNCTION askwealth.query_cache_lookup_exact(bytea, text, text, text, boolean);", ScaleOutSql.LookupExact,
        FastLookupsSql.IndexPending.Replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", StringComparison.Ordinal), FastLookupsSql.Maintenance);

    private const string LookupExact = """
        -- The entry whose normalized question has this hash (a private entry of the user first, then the newest), with its
        -- expiry; records the hit unless p_record_hit is false. Reads only when it is false: it runs on a standby.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_lookup_exact(
            p_query_hash bytea, p_tenant_id text, p_user_id text, p_embedding_model text, p_record_hit boolean DEFAULT true)
        RETURNS TABLE (entry_id bigint, query_text text, answer text, similarity double precision,
                       user_message_id uuid, assistant_message_id uuid, expires_at timestamptz)
        LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_entry record;
        BEGIN
            PERFORM askwealth.query_cache_check_scope(p_tenant_id, p_embedding_model);
            IF p_query_hash IS NULL OR octet_length(p_query_hash) <> 32 THEN
                RAISE EXCEPTION 'query cache: the query hash must be a 32-byte SHA-256 digest'
                    USING ERRCODE = '22023', HINT = 'Hash the normalized question (trimmed, lower-cased, whitespace collapsed) with SHA-256.';
            END IF;
            IF NOT coalesce((SELECT c.cache_enabled FROM askwealth.query_cache_effective_config(p_tenant_id) c), false) THEN
                RETURN;
            END IF;

            SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, e.expires_at INTO v_entry
            FROM askwealth.query_cache_embeddings e
            WHERE e.tenant_id = p_tenant_id
              AND e.query_hash = p_query_hash
              AND e.embedding_model = p_embedding_model
              AND (e.user_id IS NULL OR e.user_id = p_user_id)
              AND (e.expires_at IS NULL OR e.expires_at > now())
            ORDER BY e.user_id NULLS LAST, e.id DESC
            LIMIT 1;
            IF v_entry.id IS NULL THEN
                RETURN;
            END IF;
            IF p_record_hit THEN
                PERFORM askwealth.query_cache_record_hit(p_tenant_id, v_entry.id);
            END IF;
            RETURN QUERY SELECT v_entry.id, v_entry.query_text, v_entry.answer, 1.0::double precision, v_entry.user_message_id,
                                v_entry.assistant_message_id, v_entry.expires_at;
        END $fn$;
        """;

    private const string IndexPending = """
        -- Inserts up to p_batch_size unindexed entries (oldest first) into the HNSW index; returns how many. Rows another
        -- session is indexing or deleting are skipped, so instances can call it at once; call it until it returns 0.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_index_pending(p_batch_size integer DEFAULT 16)
        RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_indexed integer;
        BEGIN
            IF p_batch_size IS NULL OR p_batch_size < 1 THEN
                RAISE EXCEPTION 'query cache: index batch size % must be at least 1', p_batch_size USING ERRCODE = '22023';
            END IF;
            UPDATE askwealth.query_cache_embeddings SET indexed = true
            WHERE (tenant_id, id) IN (SELECT e.tenant_id, e.id FROM askwealth.query_cache_embeddings e
                                      WHERE NOT e.indexed ORDER BY e.id LIMIT p_batch_size FOR UPDATE SKIP LOCKED);
            GET DIAGNOSTICS v_indexed = ROW_COUNT;
            RETURN v_indexed;
        END $fn$;
        """;

    private const string Maintenance = """
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
            WHERE (tenant_id, id) IN (SELECT e.tenant_id, e.id FROM askwealth.query_cache_embeddings e
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
                    WHERE (tenant_id, id) IN (SELECT e.tenant_id, e.id FROM askwealth.query_cache_embeddings e
                                              LEFT JOIN askwealth.query_cache_hits h ON h.tenant_id = e.tenant_id AND h.entry_id = e.id
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
                WHERE (tenant_id, id) IN (SELECT e.tenant_id, e.id FROM askwealth.query_cache_embeddings e
                                          LEFT JOIN askwealth.query_cache_hits h ON h.tenant_id = e.tenant_id AND h.entry_id = e.id
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
            LEFT JOIN askwealth.query_cache_hits h ON h.tenant_id = e.tenant_id AND h.entry_id = e.id
            WHERE p_tenant_id IS NULL OR e.tenant_id = p_tenant_id
        $fn$;
        """;
}
