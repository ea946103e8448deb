namespace QueryCache.Migrations.Migrations;

/// <summary>
/// The SQL of migration EmbeddingCacheAndMessageTriggers: the trigger function that removes entries whose source
/// messages changed or went, and the functions that put its triggers on the app's message table or take them off. The
/// migration itself does not touch the app's table.
/// </summary>
internal static class FollowSourcesSql
{
    public const string Up = """
        -- Removes the entries made from app messages whose content (or rephrased query) changed, that were deleted, or
        -- whose table was truncated: statement-level, so a bulk change costs two set-based deletes, in the same
        -- transaction as the change (a rolled-back change removes nothing).
        CREATE OR REPLACE FUNCTION askwealth.query_cache_forget_messages()
        RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM askwealth.query_cache_embeddings
                WHERE user_message_id IS NOT NULL OR assistant_message_id IS NOT NULL;
            ELSIF TG_OP = 'DELETE' THEN
                DELETE FROM askwealth.query_cache_embeddings
                WHERE user_message_id IN (SELECT id FROM query_cache_old_messages);
                DELETE FROM askwealth.query_cache_embeddings
                WHERE assistant_message_id IN (SELECT id FROM query_cache_old_messages);
            ELSE
                DELETE FROM askwealth.query_cache_embeddings
                WHERE user_message_id IN (
                    SELECT o.id
                    FROM query_cache_old_messages o
                    JOIN query_cache_new_messages n ON n.id = o.id
                    -- to_jsonb: an app table without rephrased_query compares null with null.
                    WHERE (to_jsonb(n) -> 'content', to_jsonb(n) -> 'rephrased_query')
                          IS DISTINCT FROM (to_jsonb(o) -> 'content', to_jsonb(o) -> 'rephrased_query'));
                DELETE FROM askwealth.query_cache_embeddings
                WHERE assistant_message_id IN (
                    SELECT o.id
                    FROM query_cache_old_messages o
                    JOIN query_cache_new_messages n ON n.id = o.id
                    WHERE (to_jsonb(n) -> 'content', to_jsonb(n) -> 'rephrased_query')
                          IS DISTINCT FROM (to_jsonb(o) -> 'content', to_jsonb(o) -> 'rephrased_query'));
            END IF;
            RETURN NULL;
        END $fn$;

        CREATE OR REPLACE FUNCTION askwealth.query_cache_install_message_triggers()
        RETURNS void LANGUAGE plpgsql AS $fn$
        BEGIN
            IF to_regclass('askwealth.message') IS NULL THEN
                RAISE EXCEPTION 'askwealth.message does not exist, so there is nothing to follow'
                    USING HINT = 'Create the app''s message table first (sql/sample-app-schema.sql shows its shape), then run this again.';
            END IF;
            PERFORM askwealth.query_cache_remove_message_triggers();
            CREATE TRIGGER query_cache_forget_updated_messages AFTER UPDATE ON askwealth.message
                REFERENCING OLD TABLE AS query_cache_old_messages NEW TABLE AS query_cache_new_messages
                FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_forget_messages();
            CREATE TRIGGER query_cache_forget_deleted_messages AFTER DELETE ON askwealth.message
                REFERENCING OLD TABLE AS query_cache_old_messages
                FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_forget_messages();
            CREATE TRIGGER query_cache_forget_truncated_messages AFTER TRUNCATE ON askwealth.message
                FOR EACH STATEMENT EXECUTE FUNCTION askwealth.query_cache_forget_messages();
        END $fn$;

        CREATE OR REPLACE FUNCTION askwealth.query_cache_remove_message_triggers()
        RETURNS void LANGUAGE plpgsql AS $fn$
        BEGIN
            IF to_regclass('askwealth.message') IS NOT NULL THEN
                DROP TRIGGER IF EXISTS query_cache_forget_updated_messages ON askwealth.message;
                DROP TRIGGER IF EXISTS query_cache_forget_deleted_messages ON askwealth.message;
                DROP TRIGGER IF EXISTS query_cache_forget_truncated_messages ON askwealth.message;
            END IF;
        END $fn$;
        """;

    public const string Down = """
        SELECT askwealth.query_cache_remove_message_triggers();
        DROP FUNCTION askwealth.query_cache_install_message_triggers();
        DROP FUNCTION askwealth.query_cache_remove_message_triggers();
        DROP FUNCTION askwealth.query_cache_forget_messages();
        """;
}
