namespace QueryCache.Migrations.Migrations;

/// <content>The SQL that migration FastLookups applies, before its placeholders are filled.</content>
internal static partial class FastLookupsSql
{
    /// <summary>Hit recording as FastLookups left it (TenantKeys restores it on the way down).</summary>
    internal const string RecordHit = """
        -- Adds p_hits to an entry's hit count and stamps the last hit; false when the entry is gone (also when it is
        -- deleted meanwhile). The count lives apart from the entry, so recording it never rewrites the row with the vector.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_record_hit(p_entry_id bigint, p_hits integer DEFAULT 1)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fn$
        BEGIN
            IF p_hits IS NULL OR p_hits < 1 THEN
                RAISE EXCEPTION 'query cache: hit count % must be at least 1', p_hits USING ERRCODE = '22023';
            END IF;
            INSERT INTO askwealth.query_cache_hits AS h (entry_id, hit_count, last_hit_at)
            SELECT e.id, p_hits, now() FROM askwealth.query_cache_embeddings e WHERE e.id = p_entry_id
            ON CONFLICT (entry_id) DO UPDATE SET hit_count = h.hit_count + excluded.hit_count, last_hit_at = excluded.last_hit_at;
            RETURN FOUND;
        EXCEPTION WHEN foreign_key_violation THEN
            RETURN false;
        END $fn$;
        """;

    private const string UpTemplate = """
        -- The vector in the chosen type, stored inline (MAIN: out of line only if a row could not fit a page), so that an
        -- exact scan reads it from the row's own page rather than through TOAST. The HNSW index is partial: a store commits
        -- its row unindexed and query_cache_index_pending inserts it into the graph afterwards, off the request path.
        DROP INDEX IF EXISTS askwealth.ix_query_cache_embeddings_embedding_hnsw;
        ALTER TABLE askwealth.query_cache_embeddings
            ALTER COLUMN embedding TYPE {column} USING {convert},
            ALTER COLUMN embedding SET STORAGE MAIN;
        ALTER TABLE askwealth.query_cache_embeddings SET (toast_tuple_target = {toast_tuple_target});
        CREATE INDEX ix_query_cache_embeddings_embedding_hnsw ON askwealth.query_cache_embeddings
            USING hnsw (embedding {type}_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})
            WHERE indexed;

        -- Live entry counts per tenant and model, kept by statement triggers; the lookup reads them to choose its path.
        -- Size rows are locked in (tenant, model) order, so concurrent multi-tenant writes queue rather than deadlock.
        INSERT INTO askwealth.query_cache_tenant_sizes (tenant_id, embedding_model, entries)
        SELECT e.tenant_id, e.embedding_model, count(*) FROM askwealth.query_cache_embeddings e GROUP BY 1, 2;

        CREATE FUNCTION askwealth.query_cache_count_entries()
        RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO askwealth.query_cache_tenant_sizes AS s (tenant_id, embedding_model, entries)
                SELECT n.tenant_id, n.embedding_model, count(*) FROM new_rows n GROUP BY 1, 2 ORDER BY 1, 2
                ON CONFLICT (tenant_id, embedding_model) DO UPDATE SET entries = s.entries + excluded.entries;
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM 1 FROM askwealth.query_cache_tenant_sizes s
                WHERE (s.tenant_id, s.embedding_model) IN (SELECT o.tenant_id, o.embedding_model FROM old_rows o)
                ORDER BY s.tenant_id, s.embedding_model
                FOR UPDATE;
                UPDATE askwealth.query_cache_tenant_sizes s SET entries = s.entries - d.entries
                FROM (SELECT o.tenant_id, o.embedding_model, count(*) AS entries FROM old_rows o GROUP BY 1, 2) d
                WHERE s.tenant_id = d.tenant_id AND s.embedding_model = d.embedding_model;
            ELSE
                DELETE FROM askwealth.query_cache_tenant_sizes;
            END IF;
            RETURN NULL;
        END $fn$;

        CREATE TRIGGER query_cache_count_inserts AFTER INSERT ON askwealth.query_cache_embeddings
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_count_entries();
        CREATE TRIGGER query_cache_count_deletes AFTER DELETE ON askwealth.query_cache_embeddings
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_count_entries();
        CREATE TRIGGER query_cache_count_truncates AFTER TRUNCATE ON askwealth.query_cache_embeddings
            FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_count_entries();

        """ + "\n" + IndexPending + "\n\n" + Nearest + "\n\n" + Lookup + "\n\n" + RecordHit + "\n\n" + Maintenance;

    /// <summary>query_cache_index_pending as this migration made it.</summary>
    internal const string IndexPending = """
        -- Inserts up to p_batch_size unindexed entries (oldest first) into the HNSW index; returns how many. Rows another
        -- session is indexing or deleting are skipped, so instances can call it at once; call it until it returns 0.
        CREATE FUNCTION askwealth.query_cache_index_pending(p_batch_size integer DEFAULT 16)
        RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
            v_indexed integer;
        BEGIN
            IF p_batch_size IS NULL OR p_batch_size < 1 THEN
                RAISE EXCEPTION 'query cache: index batch size % must be at least 1', p_batch_size USING ERRCODE = '22023';
            END IF;
            UPDATE askwealth.query_cache_embeddings SET indexed = true
            WHERE id IN (SELECT e.id FROM askwealth.query_cache_embeddings e
                         WHERE NOT e.indexed ORDER BY e.id LIMIT p_batch_size FOR UPDATE SKIP LOCKED);
            GET DIAGNOSTICS v_indexed = ROW_COUNT;
            RETURN v_indexed;
        END $fn$;
        """;

    /// <summary>query_cache_nearest as this migration made it.</summary>
    internal const string Nearest = """
        -- The nearest live entry of the tenant (shared, or private to p_user_id) and embedding model, whatever its
        -- similarity, with the settings in force: one row, whose entry columns are NULL when there is no entry (or the
        -- cache is disabled). The caller applies the threshold and checks the candidate; it records the hit itself.
        -- The path is chosen here from the tenant's size, not by the planner: a tenant of at most
        -- querycache.exact_scan_limit entries is compared exactly, entry by entry, through its b-tree ("+ 0" keeps the
        -- HNSW index out); a larger one walks the HNSW index with hnsw.ef_search = querycache.ef_search, iteratively where
        -- the tenant is a small enough share of the table that its filter could empty the result (relaxed order: for
        -- LIMIT 1 the first walk's order is exact), and its entries not yet indexed are compared exactly alongside. The SET
        -- clauses make those plans the only ones (no sequential scan, no sort in place of the index walk) and keep JIT,
        -- which their disabled alternatives' costs would trigger, off. The query vector is cast to the column's type so
        -- that it compares in the stored type and the index applies. Reads only: it runs on a standby.
        CREATE OR REPLACE FUNCTION askwealth.query_cache_nearest(
            p_embedding vector, p_tenant_id text, p_user_id text, p_embedding_model text)
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
            v_query := p_embedding::{column};

            SELECT c.similarity_threshold, c.cache_enabled, c.guard_enabled, c.contrast_terms,
                   (SELECT s.entries FROM askwealth.query_cache_tenant_sizes s
                    WHERE s.tenant_id = p_tenant_id AND s.embedding_model = p_embedding_model),
                   (SELECT t.reltuples FROM pg_class t WHERE t.oid = 'askwealth.query_cache_embeddings'::regclass)
            INTO similarity_threshold, cache_enabled, guard_enabled, contrast_terms, v_entries, v_table_rows
            FROM askwealth.query_cache_effective_config(p_tenant_id) c;
            IF NOT coalesce(cache_enabled, false) OR coalesce(v_entries, 0) = 0 THEN
                RETURN NEXT;
                RETURN;
            END IF;

            IF v_entries <= coalesce(nullif(current_setting('querycache.exact_scan_limit', true), '')::bigint, {exact_scan_limit}) THEN
                SELECT e.id, e.query_text, e.answer, 1 - (e.embedding <=> v_query), e.user_message_id, e.assistant_message_id
                INTO entry_id, query_text, answer, similarity, user_message_id, assistant_message_id
                FROM askwealth.query_cache_embeddings e
                WHERE e.tenant_id = p_tenant_id
                  AND e.embedding_model = p_embedding_model
                  AND (e.user_id IS NULL OR e.user_id = p_user_id)
                  AND (e.expires_at IS NULL OR e.expires_at > now())
                ORDER BY (e.embedding <=> v_query) + 0
                LIMIT 1;
            ELSE
                IF coalesce(v_ef_search, '') <> '' THEN
                    v_ef_search := set_config('hnsw.ef_search', v_ef_search, true);
                END IF;
                -- Iterate only where the tenant filter could empty a whole candidate list, i.e. where ef_search entries
                -- drawn from the table may (p > 1e-12) hold none of the tenant's; iterating costs ~8% of the walk.
                v_share := CASE WHEN v_table_rows > 0 THEN v_entries / v_table_rows END;
                IF v_share IS NULL OR (v_share < 1 AND current_setting('hnsw.ef_search')::int * ln(1 - v_share) > -27.6) THEN
                    v_ef_search := set_config('hnsw.iterative_scan', 'relaxed_order', true);
                END IF;
                SELECT n.id, n.query_text, n.answer, 1 - n.distance, n.user_message_id, n.assistant_message_id
                INTO entry_id, query_text, answer, similarity, user_message_id, assistant_message_id
                FROM ((SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, e.embedding <=> v_query AS distance
                       FROM askwealth.query_cache_embeddings e
                       WHERE e.tenant_id = p_tenant_id
                         AND e.embedding_model = p_embedding_model
                         AND e.indexed
                         AND (e.user_id IS NULL OR e.user_id = p_user_id)
                         AND (e.expires_at IS NULL OR e.expires_at > now())
                       ORDER BY e.embedding <=> v_query
                       LIMIT 1)
                      UNION ALL
                      (SELECT e.id, e.query_text, e.answer, e.user_message_id, e.assistant_message_id, (e.embedding <=> v_query) + 0
                       FROM askwealth.query_cache_embeddings e
                       WHERE e.tenant_id = p_tenant_id
                         AND e.embedding_model = p_embedding_model
                         AND NOT e.indexed
                         AND (e.user_id IS NULL OR e.user_id = p_user_id)
                         AND (e.expires_at IS NULL OR e.expires_at > now())
                       ORDER BY 6
                       LIMIT 1)) n
                ORDER BY n.distance
                LIMIT 1;
            END IF;
            RETURN NEXT;
        END $fn$;
        """;

    /// <summary>query_cache_lookup as this migration made it.</summary>
    internal const string Lookup = """
        -- The nearest live entry at or above the threshold (p_threshold, else the tenant's, else the global one), found
        -- by query_cache_nearest; records the hit unless p_record_hit is false.
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
            SELECT * INTO v_nearest FROM askwealth.query_cache_nearest(p_embedding, p_tenant_id, p_user_id, p_embedding_model);
            IF v_nearest.entry_id IS NULL OR v_nearest.similarity < coalesce(p_threshold, v_nearest.similarity_threshold) THEN
                RETURN;
            END IF;
            IF p_record_hit THEN
                PERFORM askwealth.query_cache_record_hit(v_nearest.entry_id);
            END IF;
            entry_id := v_nearest.entry_id;
            query_text := v_nearest.query_text;
            answer := v_nearest.answer;
            similarity := v_nearest.similarity;
            user_message_id := v_nearest.user_message_id;
            assistant_message_id := v_nearest.assistant_message_id;
            RETURN NEXT;
        END $fn$;
        """;
}
