using C = QueryCache.QueryCacheSchema.Config;
using E = QueryCache.QueryCacheSchema.Embeddings;
using F = QueryCache.QueryCacheSchema.Functions;
using J = QueryCache.QueryCacheSchema.JobState;
using P = QueryCache.QueryCacheSchema.QaPairs;
using S = QueryCache.QueryCacheSchema.StatsColumns;
using T = QueryCache.QueryCacheSchema.TenantSizes;
using V = QueryCache.QueryCacheSchema.TextEmbeddings;
using X = QueryCache.QueryCacheSchema.Erasures;
using L = QueryCache.QueryCacheSchema.Labels;
using A = QueryCache.QueryCacheSchema.Askers;

namespace QueryCache.Internal;

/// <summary>
/// Every statement the runtime sends, composed once from <see cref="QueryCacheSchema"/>. The statement text is not a
/// contract (the schema's names and functions are); callers only bind parameters. Column aliases are the property
/// names Dapper maps to.
/// </summary>
internal static partial class CacheStatements
{
    private const string Schema = QueryCacheSchema.Schema;
    private const string Embeddings = Schema + "." + E.Table;
    private const string Config = Schema + "." + C.Table;
    private const string JobState = Schema + "." + J.Table;
    private const string Erasures = Schema + "." + X.Table;
    private const string QaPairs = Schema + "." + P.View;
    private const string EffectiveConfig = Schema + "." + F.EffectiveConfig;
    private const string TextEmbeddings = Schema + "." + V.Table;
    private const string Labels = Schema + "." + L.Table;
    private const string Askers = Schema + "." + A.Table;
    private const string ShareAfterAskers = Schema + "." + F.ShareAfterAskers;

    /// <summary>
    /// Row-level security (opt in: <c>query_cache_enable_row_level_security()</c>): a statement first declares, in the
    /// same round trip and transaction, the tenant whose rows it works on (<see cref="ForTenant"/>, from its @TenantId;
    /// NULL there means every tenant), or every tenant (<see cref="ForAllTenants"/>) for work that spans them. The lookups
    /// need neither: their functions declare the tenant they are given, so a lookup stays one statement on a standby.
    /// </summary>
    private const string ForTenant = $"CALL {Schema}.{F.DeclareTenant}(@TenantId);\n";

    private const string ForAllTenants = $"CALL {Schema}.{F.DeclareTenant}(NULL);\n";

    private const string HitColumns = $"""
        {F.EntryIdColumn} AS "EntryId", {E.QueryText} AS "QueryText", {E.Answer} AS "Answer", {F.SimilarityColumn} AS "Similarity",
        {E.UserMessageId} AS "UserMessageId", {E.AssistantMessageId} AS "AssistantMessageId"
        """;

    /// <summary>
    /// Sets the commit mode of the cache's own writes for the statement's transaction (<c>synchronous_commit</c> =
    /// @SynchronousCommit, or the server's when that is null); a filter that is always true, so it rides in the statement.
    /// </summary>
    private const string CommitMode =
        "set_config('synchronous_commit', coalesce(@SynchronousCommit, current_setting('synchronous_commit')), true) IS NOT NULL";

    /// <summary>Hit counts, over arrays sorted by (tenant, id): instances flushing the same entries lock them in the same order.</summary>
    public const string RecordHits =
        ForAllTenants + $"SELECT count({Schema}.{F.RecordHit}(h.tenant, h.id, h.hits)) FROM unnest(@Tenants, @Ids, @Hits) AS h(tenant, id, hits) WHERE {CommitMode}";

    /// <summary>One pass of moving stored entries into the HNSW index.</summary>
    public const string IndexPending = ForAllTenants + $"SELECT {Schema}.{F.IndexPending}(@BatchSize) WHERE {CommitMode}";

    /// <summary>
    /// A new entry for the tenant (no user of its own) by a known asker, in a tenant that shares after more than one asker,
    /// waits for corroboration: private to the asker until enough others ask (the backfill's <see cref="InsertStaged"/> alike).
    /// A re-added user message replaces its entry; a message id another tenant's entry already carries is refused (no
    /// row is returned), so a message belongs to one tenant even though the unique key leads with the tenant.
    /// </summary>
    public const string Insert = ForTenant + $"""
        INSERT INTO {Embeddings} AS e
            ({E.TenantId}, {E.UserId}, {E.AskedBy}, {E.UserMessageId}, {E.AssistantMessageId}, {E.QueryText}, {E.QueryHash}, {E.Answer},
             {E.Embedding}, {E.EmbeddingModel}, {E.ExpiresAt}, {E.Indexed}, {E.Sharing})
        SELECT @TenantId, CASE WHEN p.pending THEN @AskedBy ELSE @UserId END, @AskedBy, @UserMessageId, @AssistantMessageId, @QueryText,
               @Hash, @Answer, @Embedding, @Model, now() + coalesce(@TimeToLive, c.{C.DefaultTtl}), @Indexed,
               CASE WHEN p.pending THEN 'pending' END
        FROM {EffectiveConfig}(@TenantId) c
        CROSS JOIN LATERAL (SELECT @UserId::text IS NULL AND @AskedBy::text IS NOT NULL AND {ShareAfterAskers}(@TenantId) > 1 AS pending) p
        WHERE {CommitMode}
          AND NOT EXISTS (SELECT 1 FROM {Embeddings} o
                          WHERE o.{E.UserMessageId} = @UserMessageId AND o.{E.EmbeddingModel} = @Model AND o.{E.TenantId} <> @TenantId)
        ON CONFLICT ({E.TenantId}, {E.UserMessageId}, {E.EmbeddingModel}) DO UPDATE
            SET {E.UserId} = excluded.{E.UserId}, {E.AskedBy} = excluded.{E.AskedBy}, {E.AssistantMessageId} = excluded.{E.AssistantMessageId},
                {E.QueryText} = excluded.{E.QueryText}, {E.QueryHash} = excluded.{E.QueryHash}, {E.Answer} = excluded.{E.Answer},
                {E.Embedding} = excluded.{E.Embedding}, {E.ExpiresAt} = excluded.{E.ExpiresAt}, {E.Indexed} = excluded.{E.Indexed},
                {E.Sharing} = excluded.{E.Sharing}, {E.SharedAt} = NULL, {E.CreatedAt} = now()
        RETURNING e.{E.Id} AS "Id", e.{E.Sharing} IS NOT DISTINCT FROM 'pending' AS "Pending"
        """;

    /// <summary>Shares a pending entry with its whole tenant now; true when it was pending.</summary>
    public const string ApproveSharing = ForTenant + $"SELECT {Schema}.{F.ApproveSharing}(@TenantId, @EntryId)";

    public const string InvalidateTenant =
        ForTenant + $"DELETE FROM {Embeddings} WHERE {E.TenantId} = @TenantId AND {E.Id} IN ({SelectIdsForUpdate} WHERE {E.TenantId} = @TenantId ORDER BY {E.Id} FOR UPDATE)";

    // Matched on the whole key (tenant, id): the primary key leads with the tenant, so "id IN" alone would scan it.
    public const string InvalidateMessages = ForAllTenants + $"""
        DELETE FROM {Embeddings} WHERE ({E.TenantId}, {E.Id}) IN (SELECT {E.TenantId}, {E.Id} FROM {Embeddings}
            WHERE {E.UserMessageId} = ANY(@Ids) OR {E.AssistantMessageId} = ANY(@Ids) ORDER BY {E.Id} FOR UPDATE)
        """;

    public const string InvalidateEntry = ForTenant + $"DELETE FROM {Embeddings} WHERE {E.TenantId} = @TenantId AND {E.Id} = @EntryId";

    public const string InvalidateAll = ForAllTenants + $"DELETE FROM {Embeddings} WHERE {E.Id} IN ({SelectIdsForUpdate} ORDER BY {E.Id} FOR UPDATE)";

    /// <summary>
    /// Erasure: the user's private entries and the shared ones made from their questions, the labels of their
    /// questions, plus a tombstone so a later backfill does not cache their earlier questions again while the app still
    /// holds the messages.
    /// </summary>
    public const string EraseUser = ForTenant + $"""
        WITH tombstone AS (
            INSERT INTO {Erasures} ({X.TenantId}, {X.UserId}, {X.ErasedAt}) VALUES (@TenantId, @UserId, now())
            ON CONFLICT ({X.TenantId}, {X.UserId}) DO UPDATE SET {X.ErasedAt} = now()),
        labels AS (DELETE FROM {Labels} WHERE {L.TenantId} = @TenantId AND {L.UserId} = @UserId),
        asked AS (DELETE FROM {Askers} WHERE {A.TenantId} = @TenantId AND {A.UserId} = @UserId RETURNING {A.EntryId}),
        -- An entry their asking helped share goes back to waiting when the others who asked no longer suffice.
        demoted AS (
            UPDATE {Embeddings} e SET {E.UserId} = e.{E.AskedBy}, {E.Sharing} = 'pending', {E.SharedAt} = NULL
            WHERE e.{E.TenantId} = @TenantId AND e.{E.Sharing} = 'corroborated' AND e.{E.AskedBy} <> @UserId
              AND e.{E.Id} IN (SELECT {A.EntryId} FROM asked)
              AND 1 + (SELECT count(*) FROM {Askers} a
                       WHERE a.{A.TenantId} = @TenantId AND a.{A.EntryId} = e.{E.Id} AND a.{A.UserId} <> @UserId) < {ShareAfterAskers}(@TenantId))
        DELETE FROM {Embeddings} WHERE {E.TenantId} = @TenantId AND {E.Id} IN ({SelectIdsForUpdate}
            WHERE {E.TenantId} = @TenantId AND ({E.UserId} = @UserId OR {E.AskedBy} = @UserId) ORDER BY {E.Id} FOR UPDATE)
        """;

    public const string Stats = ForTenant + $"""
        SELECT {S.TotalEntries} AS "TotalEntries", {S.TotalHits} AS "TotalHits", {S.ExpiredEntries} AS "ExpiredEntries",
               {S.HitEntries} AS "HitEntries", {S.TenantCount} AS "TenantCount", {S.OldestEntryAt} AS "OldestEntryAt",
               {S.NewestEntryAt} AS "NewestEntryAt", {S.LastHitAt} AS "LastHitAt", w.pending AS "PendingEntries", w.promoted AS "PromotedEntries"
        FROM {Schema}.{F.Stats}(@TenantId)
        CROSS JOIN (SELECT count(*) FILTER (WHERE e.{E.Sharing} = 'pending') AS pending, count(*) FILTER (WHERE e.{E.Sharing} <> 'pending') AS promoted
                    FROM {Embeddings} e WHERE e.{E.Sharing} IS NOT NULL AND (@TenantId::text IS NULL OR e.{E.TenantId} = @TenantId)) w
        """;

    public const string GetConfig = ForTenant + $"""
        SELECT {C.SimilarityThreshold} AS "SimilarityThreshold", {C.CacheEnabled} AS "CacheEnabled",
               {C.MaxCacheEntries} AS "MaxCacheEntries", {C.DefaultTtl} AS "DefaultTimeToLive", {C.GuardEnabled} AS "GuardEnabled",
               {C.ContrastTerms} AS "ContrastTerms", {ShareAfterAskers}(@TenantId) AS "ShareAfterAskers"
        FROM {EffectiveConfig}(@TenantId)
        """;

    public const string UpdateGlobalConfig = ForAllTenants + $"""
        UPDATE {Config}
        SET {C.SimilarityThreshold} = coalesce(@SimilarityThreshold, {C.SimilarityThreshold}),
            {C.CacheEnabled} = coalesce(@CacheEnabled, {C.CacheEnabled}),
            {C.MaxCacheEntries} = coalesce(@MaxCacheEntries, {C.MaxCacheEntries}),
            {C.DefaultTtl} = coalesce(@DefaultTimeToLive, {C.DefaultTtl}),
            {C.GuardEnabled} = coalesce(@GuardEnabled, {C.GuardEnabled}),
            {C.ContrastTerms} = coalesce(@ContrastTerms, {C.ContrastTerms}),
            {C.ShareAfterAskers} = coalesce(@ShareAfterAskers, {C.ShareAfterAskers}),
            {C.UpdatedAt} = now()
        WHERE {C.TenantId} IS NULL
        """;

    public const string UpsertTenantConfig = ForTenant + $"""
        INSERT INTO {Config} AS c ({C.TenantId}, {C.SimilarityThreshold}, {C.CacheEnabled}, {C.MaxCacheEntries}, {C.DefaultTtl},
            {C.GuardEnabled}, {C.ContrastTerms}, {C.ShareAfterAskers})
        VALUES (@TenantId, @SimilarityThreshold, @CacheEnabled, @MaxCacheEntries, @DefaultTimeToLive, @GuardEnabled, @ContrastTerms, @ShareAfterAskers)
        ON CONFLICT ({C.TenantId}) DO UPDATE
            SET {C.SimilarityThreshold} = coalesce(excluded.{C.SimilarityThreshold}, c.{C.SimilarityThreshold}),
                {C.CacheEnabled} = coalesce(excluded.{C.CacheEnabled}, c.{C.CacheEnabled}),
                {C.MaxCacheEntries} = coalesce(excluded.{C.MaxCacheEntries}, c.{C.MaxCacheEntries}),
                {C.DefaultTtl} = coalesce(excluded.{C.DefaultTtl}, c.{C.DefaultTtl}),
                {C.GuardEnabled} = coalesce(excluded.{C.GuardEnabled}, c.{C.GuardEnabled}),
                {C.ContrastTerms} = coalesce(excluded.{C.ContrastTerms}, c.{C.ContrastTerms}),
                {C.ShareAfterAskers} = coalesce(excluded.{C.ShareAfterAskers}, c.{C.ShareAfterAskers}),
                {C.UpdatedAt} = now()
        """;

    public const string ResetTenantConfig = ForTenant + $"DELETE FROM {Config} WHERE {C.TenantId} = @TenantId";

    public const string TryLock = "SELECT pg_try_advisory_lock(@Key)";

    /// <summary>Waits for an advisory lock at most @Timeout (a lock_timeout for this transaction only).</summary>
    public const string Lock = "SELECT set_config('lock_timeout', @Timeout, true); SELECT pg_advisory_lock(@Key)";

    /// <summary>The in-process tier's notification connection: named, listening on the invalidation channel.</summary>
    public const string ListenForInvalidations = $"SET application_name = 'querycache-tier'; LISTEN {QueryCacheSchema.InvalidationChannel}";

    /// <summary>A round trip that proves a connection is alive.</summary>
    public const string Heartbeat = "SELECT 1";

    public const string Unlock = "SELECT pg_advisory_unlock(@Key)";

    private const string JobStateColumns = $"""
        {J.Job} AS "Job", {J.Status} AS "Status", {J.TenantFilter} AS "TenantFilter", {J.SinceFilter} AS "SinceFilter",
        {J.UntilFilter} AS "UntilFilter", {J.CursorAskedAt} AS "CursorAskedAt", {J.CursorUserMessageId} AS "CursorUserMessageId",
        {J.Total} AS "Total", {J.Processed} AS "Processed", {J.Added} AS "Added", {J.AlreadyCached} AS "AlreadyCached",
        {J.Skipped} AS "Skipped", {J.Failed} AS "Failed", {J.StartedAt} AS "StartedAt", {J.UpdatedAt} AS "UpdatedAt",
        {J.FinishedAt} AS "FinishedAt", {J.Error} AS "Error"
        """;

    /// <summary>A job's state, and whether its lock is held: a 'running' row whose lock nobody holds belongs to a run that died.</summary>
    public const string ReadJobState = $"""
        SELECT {JobStateColumns}, EXISTS (
                   SELECT 1 FROM pg_locks l
                   WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                     AND ((l.classid::bigint << 32) | l.objid::bigint) = @LockKey) AS "Locked"
        FROM {JobState} WHERE {J.Job} = @Job
        """;

    /// <summary>Writes a run's whole state: its start, each checkpoint and its end are the same statement.</summary>
    public const string SaveJobState = $"""
        INSERT INTO {JobState} AS s ({J.Job}, {J.Status}, {J.TenantFilter}, {J.SinceFilter}, {J.UntilFilter}, {J.CursorAskedAt},
            {J.CursorUserMessageId}, {J.Total}, {J.Processed}, {J.Added}, {J.AlreadyCached}, {J.Skipped}, {J.Failed}, {J.StartedAt},
            {J.UpdatedAt}, {J.FinishedAt}, {J.Error})
        VALUES (@Job, @Status, @TenantId, @Since, @Until, @CursorAskedAt, @CursorUserMessageId, @Total, @Processed, @Added,
            @AlreadyCached, @Skipped, @Failed, @StartedAt, now(), CASE WHEN @Status = 'running' THEN NULL ELSE now() END, @Error)
        ON CONFLICT ({J.Job}) DO UPDATE SET {J.Status} = excluded.{J.Status}, {J.TenantFilter} = excluded.{J.TenantFilter},
            {J.SinceFilter} = excluded.{J.SinceFilter}, {J.UntilFilter} = excluded.{J.UntilFilter},
            {J.CursorAskedAt} = excluded.{J.CursorAskedAt}, {J.CursorUserMessageId} = excluded.{J.CursorUserMessageId},
            {J.Total} = excluded.{J.Total}, {J.Processed} = excluded.{J.Processed}, {J.Added} = excluded.{J.Added},
            {J.AlreadyCached} = excluded.{J.AlreadyCached}, {J.Skipped} = excluded.{J.Skipped}, {J.Failed} = excluded.{J.Failed},
            {J.StartedAt} = excluded.{J.StartedAt}, {J.UpdatedAt} = now(), {J.FinishedAt} = excluded.{J.FinishedAt},
            {J.Error} = excluded.{J.Error}
        """;

    private const string PairFilter = $"""
        (@TenantId::text IS NULL OR p.{P.TenantId} = @TenantId)
        AND (@Since::timestamptz IS NULL OR p.{P.AskedAt} >= @Since)
        AND (@Until::timestamptz IS NULL OR p.{P.AskedAt} < @Until)
        """;

    public const string CountPairs = ForTenant + $"SELECT count(*) FROM {QaPairs} p WHERE {PairFilter}";

    /// <summary>Keyset pagination on (asked_at, user_message_id): each batch continues exactly after the checkpoint.</summary>
    public const string ReadPairs = ForTenant + $"""
        SELECT p.{P.UserMessageId} AS "UserMessageId", p.{P.AssistantMessageId} AS "AssistantMessageId", p.{P.TenantId} AS "TenantId",
               p.{P.UserId} AS "UserId", p.{P.Question} AS "Question", p.{P.Answer} AS "Answer", p.{P.AskedAt} AS "AskedAt",
               EXISTS (SELECT 1 FROM {Embeddings} e
                       WHERE e.{E.TenantId} = p.{P.TenantId} AND e.{E.UserMessageId} = p.{P.UserMessageId}
                         AND e.{E.EmbeddingModel} = @Model) AS "Cached",
               EXISTS (SELECT 1 FROM {Erasures} x
                       WHERE x.{X.TenantId} = p.{P.TenantId} AND x.{X.UserId} = p.{P.UserId} AND p.{P.AskedAt} <= x.{X.ErasedAt}) AS "Erased"
        FROM {QaPairs} p
        WHERE {PairFilter}
          AND (@AfterAskedAt::timestamptz IS NULL OR (p.{P.AskedAt}, p.{P.UserMessageId}) > (@AfterAskedAt, @AfterId))
        ORDER BY p.{P.AskedAt}, p.{P.UserMessageId}
        LIMIT @BatchSize
        """;

    private const string Stage = "query_cache_backfill_stage";

    public const string CreateStage = $"""
        CREATE TEMP TABLE IF NOT EXISTS {Stage} (
            tenant_id text, user_id text, asked_by text, user_message_id uuid, assistant_message_id uuid,
            query_text text, query_hash bytea, answer text, embedding vector, time_to_live interval) ON COMMIT DELETE ROWS
        """;

    /// <summary>The stage's columns in the order the backfill writes them.</summary>
    public const string CopyToStage = $"""
        COPY {Stage} (tenant_id, user_id, asked_by, user_message_id, assistant_message_id, query_text, query_hash, answer, embedding, time_to_live)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>A pair cached meanwhile by a live store is left as it is (and counted as already cached).</summary>
    public const string InsertStaged = ForAllTenants + $"""
        INSERT INTO {Embeddings}
            ({E.TenantId}, {E.UserId}, {E.AskedBy}, {E.UserMessageId}, {E.AssistantMessageId}, {E.QueryText}, {E.QueryHash}, {E.Answer},
             {E.Embedding}, {E.EmbeddingModel}, {E.ExpiresAt}, {E.Sharing})
        SELECT s.tenant_id, CASE WHEN p.pending THEN s.asked_by ELSE s.user_id END, s.asked_by, s.user_message_id, s.assistant_message_id,
               s.query_text, s.query_hash, s.answer, s.embedding, @Model, now() + coalesce(s.time_to_live, c.{C.DefaultTtl}),
               CASE WHEN p.pending THEN 'pending' END
        FROM {Stage} s CROSS JOIN LATERAL {EffectiveConfig}(s.tenant_id) c
        CROSS JOIN LATERAL (SELECT s.user_id IS NULL AND s.asked_by IS NOT NULL AND {ShareAfterAskers}(s.tenant_id) > 1 AS pending) p
        ON CONFLICT ({E.TenantId}, {E.UserMessageId}, {E.EmbeddingModel}) DO NOTHING
        """;

    public const string CleanupBatch = ForAllTenants + $"SELECT {Schema}.{F.Cleanup}(@BatchSize)";

    /// <summary>Whether the session's role may VACUUM and REINDEX the cache's tables (owns them, or is a member of the owner).</summary>
    public const string OwnsCacheTables =
        $"SELECT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = '{Embeddings}'::regclass), 'USAGE')";

    /// <summary>Returns the dead tuples' space and repairs the HNSW graph around the deleted entries.</summary>
    public const string Vacuum = $"VACUUM (ANALYZE) {Embeddings}";

    /// <summary>Live entries, all tenants and models.</summary>
    public const string CountEntries = ForAllTenants + $"SELECT coalesce(sum({T.Entries}), 0)::bigint FROM {Schema}.{T.Table}";

    /// <summary>The statements that build every valid HNSW graph (the shared one, the tenants' own) anew from the live entries, each beside the old one, then swap them.</summary>
    public const string ReindexGraphs = $"""
        SELECT format('REINDEX INDEX CONCURRENTLY {Schema}.%I', c.relname)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        WHERE i.indrelid = '{Embeddings}'::regclass AND a.amname = 'hnsw' AND i.indisvalid
        ORDER BY c.relname
        """;

    /// <summary>The statements that drop what an interrupted rebuild left behind (an invalid <c>_ccnew</c> graph).</summary>
    public const string DropInterruptedRebuilds = $"""
        SELECT format('DROP INDEX CONCURRENTLY IF EXISTS {Schema}.%I', c.relname)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = '{Embeddings}'::regclass AND NOT i.indisvalid AND c.relname LIKE '%ccnew%'
        """;

    /// <summary>Whether the tenant has a valid graph of its own.</summary>
    public const string HasTenantGraph = $"SELECT {Schema}.{F.TenantGraph}(@TenantId) IS NOT NULL";

    /// <summary>The statement that builds (@Build) or drops the tenant's own graph.</summary>
    public const string TenantGraphStatement = $"SELECT {Schema}.{F.TenantGraphStatement}(@TenantId, @Build, @PrefixDimensions)";

    public const string SetMaintenanceMemory = "SELECT set_config('maintenance_work_mem', @Memory, false)";

    public const string ResetMaintenanceMemory = "RESET maintenance_work_mem";

    /// <summary>The embedding cache's live vectors of a model for a batch of text hashes (one round trip per batch).</summary>
    public const string GetTextEmbeddings = $"""
        SELECT {V.TextHash}, {V.Embedding} FROM {TextEmbeddings}
        WHERE {V.Model} = @model AND {V.TextHash} = ANY(@hashes) AND {V.ExpiresAt} > now()
        """;

    /// <summary>Stores a batch of vectors of a model; a text stored meanwhile by another instance gets the newer vector and expiry.</summary>
    public const string PutTextEmbeddings = $"""
        INSERT INTO {TextEmbeddings} ({V.Model}, {V.TextHash}, {V.Embedding}, {V.ExpiresAt})
        SELECT @model, t.hash, t.embedding, now() + @ttl FROM unnest(@hashes, @embeddings) AS t(hash, embedding)
        WHERE {CommitMode}
        ON CONFLICT ({V.Model}, {V.TextHash}) DO UPDATE SET {V.Embedding} = excluded.{V.Embedding}, {V.ExpiresAt} = excluded.{V.ExpiresAt}
        """;

    /// <summary>One batch of expired embedding-cache rows, deleted by the cleanup job.</summary>
    public const string DeleteExpiredTextEmbeddings = $"""
        DELETE FROM {TextEmbeddings} t USING (
            SELECT {V.Model}, {V.TextHash} FROM {TextEmbeddings} WHERE {V.ExpiresAt} <= now()
            ORDER BY {V.ExpiresAt} LIMIT @BatchSize FOR UPDATE SKIP LOCKED) d
        WHERE t.{V.Model} = d.{V.Model} AND t.{V.TextHash} = d.{V.TextHash}
        """;

    /// <summary>The primary's WAL position, in bytes.</summary>
    public const string PrimaryWalPosition = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint";

    /// <summary>How far a standby has replayed the WAL, in bytes; null when the server is not in recovery.</summary>
    public const string StandbyReplayPosition =
        "SELECT CASE WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint END";

    public const string HealthProbe = $"""
        SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS "VectorVersion",
               (SELECT to_regclass('{Schema}.{QueryCacheSchema.MigrationsHistoryTable}') IS NOT NULL) AS "HasHistory",
               (SELECT atttypmod FROM pg_attribute
                WHERE attrelid = to_regclass('{Embeddings}') AND attname = '{E.Embedding}') AS "Dimensions"
        """;

    public const string MigrationApplied =
        $"""SELECT EXISTS (SELECT 1 FROM {Schema}."{QueryCacheSchema.MigrationsHistoryTable}" WHERE "MigrationId" = @Latest)""";

    /// <summary>Bulk deletes lock their rows in id order first (ORDER BY id FOR UPDATE), so two at once queue instead of deadlocking.</summary>
    private const string SelectIdsForUpdate = $"SELECT {E.Id} FROM {Embeddings}";
}
