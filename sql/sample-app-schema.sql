-- The application's message table that askwealth.v_cached_qa_pairs reads (design.md, "Schema contract").
-- QueryCache does not own it: the tests and the quickstart create it first; a real app already has its own.
CREATE SCHEMA IF NOT EXISTS askwealth;

CREATE TABLE IF NOT EXISTS askwealth.message (
    id               uuid PRIMARY KEY,
    conversation_id  uuid        NOT NULL,
    tenant_id        text        NOT NULL,
    user_id          text        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content          text        NOT NULL,
    rephrased_query  text        NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The view pairs each user message with the next message of its conversation: this index serves that lookup.
CREATE INDEX IF NOT EXISTS ix_message_conversation_created ON askwealth.message (conversation_id, created_at, id);

-- The backfill reads user messages in (created_at, id) order, a batch at a time: this index keeps each batch cheap.
CREATE INDEX IF NOT EXISTS ix_message_user_created ON askwealth.message (created_at, id) WHERE role = 'user';
