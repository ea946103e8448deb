using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using QueryCache.Internal;
using static QueryCache.Data.QueryCacheSchema;

namespace QueryCache.Jobs;

/// <summary>
/// The backfill and cleanup runs, shared by the Quartz jobs and the service. Each run holds a PostgreSQL advisory lock
/// on its own connection, so two runs of the same job never overlap, whichever instance or entry point starts them.
/// </summary>
internal sealed class QueryCacheMaintenance(
    QueryCacheDataSource dataSource,
    IOptions<QueryCacheOptions> cacheOptions,
    IOptions<QueryCacheJobOptions> jobOptions,
    QueryCacheMetrics metrics,
    ILogger<QueryCacheMaintenance> logger,
    IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator)
{
    public const string BackfillJob = "backfill";
    public const string CleanupJob = "cleanup";

    // Advisory lock keys ("QC" + job number): one backfill and one cleanup at a time per database.
    private const long BackfillLockKey = 0x5143_0001;
    private const long CleanupLockKey = 0x5143_0002;

    private const string StateColumns = """
        job AS "Job", status AS "Status", tenant_filter AS "TenantFilter", since_filter AS "SinceFilter", until_filter AS "UntilFilter",
        cursor_asked_at AS "CursorAskedAt", cursor_user_message_id AS "CursorUserMessageId", total AS "Total", processed AS "Processed",
        added AS "Added", already_cached AS "AlreadyCached", skipped AS "Skipped", failed AS "Failed", started_at AS "StartedAt",
        updated_at AS "UpdatedAt", finished_at AS "FinishedAt", error AS "Error"
        """;

    // A 'running' row whose lock nobody holds belongs to a run that died: report it as interrupted.
    private const string StatusSql = $"""
        SELECT {StateColumns}, NOT EXISTS (
                   SELECT 1 FROM pg_locks l
                   WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                     AND ((l.classid::bigint << 32) | l.objid::bigint) = @LockKey) AS "Orphaned"
        FROM {Schema}.{JobStateTable} WHERE job = @Job
        """;

    private const string StartSql = $"""
        INSERT INTO {Schema}.{JobStateTable} AS s (job, status, tenant_filter, since_filter, until_filter, cursor_asked_at,
            cursor_user_message_id, total, processed, added, already_cached, skipped, failed, started_at, updated_at, finished_at, error)
        VALUES (@Job, 'running', @TenantFilter, @SinceFilter, @UntilFilter, @CursorAskedAt, @CursorUserMessageId, @Total,
            @Processed, @Added, @AlreadyCached, @Skipped, @Failed, @StartedAt, now(), NULL, NULL)
        ON CONFLICT (job) DO UPDATE SET status = 'running', tenant_filter = excluded.tenant_filter, since_filter = excluded.since_filter,
            until_filter = excluded.until_filter, cursor_asked_at = excluded.cursor_asked_at,
            cursor_user_message_id = excluded.cursor_user_message_id, total = excluded.total, processed = excluded.processed,
            added = excluded.added, already_cached = excluded.already_cached, skipped = excluded.skipped, failed = excluded.failed,
            started_at = excluded.started_at, updated_at = now(), finished_at = NULL, error = NULL
        """;

    private const string PairFilter = """
        (@TenantId::text IS NULL OR p.tenant_id = @TenantId)
        AND (@Since::timestamptz IS NULL OR p.asked_at >= @Since)
        AND (@Until::timestamptz IS NULL OR p.asked_at < @Until)
        """;

    private const string CountPairsSql = $"SELECT count(*) FROM {Schema}.{QaPairsView} p WHERE {PairFilter}";

    // Keyset pagination on (asked_at, user_message_id): each batch continues exactly after the checkpoint.
    private const string ReadBatchSql = $"""
        SELECT p.user_message_id AS "UserMessageId", p.assistant_message_id AS "AssistantMessageId", p.tenant_id AS "TenantId",
               p.user_id AS "UserId", p.question AS "Question", p.answer AS "Answer", p.asked_at AS "AskedAt",
               EXISTS (SELECT 1 FROM {Schema}.{EmbeddingsTable} e
                       WHERE e.user_message_id = p.user_message_id AND e.embedding_model = @Model) AS "Cached",
               EXISTS (SELECT 1 FROM {Schema}.{ErasuresTable} x
                       WHERE x.tenant_id = p.tenant_id AND x.user_id = p.user_id AND p.asked_at <= x.erased_at) AS "Erased"
        FROM {Schema}.{QaPairsView} p
        WHERE {PairFilter}
          AND (@AfterAskedAt::timestamptz IS NULL OR (p.asked_at, p.user_message_id) > (@AfterAskedAt, @AfterId))
        ORDER BY p.asked_at, p.user_message_id
        LIMIT @BatchSize
        """;

    private const string CreateStageSql = """
        CREATE TEMP TABLE IF NOT EXISTS query_cache_backfill_stage (
            tenant_id text, user_id text, asked_by text, user_message_id uuid, assistant_message_id uuid,
            query_text text, query_hash bytea, answer text, embedding vector) ON COMMIT DELETE ROWS
        """;

    private const string CopyStageSql = """
        COPY query_cache_backfill_stage (tenant_id, user_id, asked_by, user_message_id, assistant_message_id, query_text, query_hash, answer, embedding)
        FROM STDIN (FORMAT BINARY)
        """;

    private const string InsertStagedSql = $"""
        INSERT INTO {Schema}.{EmbeddingsTable}
            (tenant_id, user_id, asked_by, user_message_id, assistant_message_id, query_text, query_hash, answer, embedding, embedding_model, expires_at)
        SELECT s.tenant_id, s.user_id, s.asked_by, s.user_message_id, s.assistant_message_id, s.query_text, s.query_hash, s.answer, s.embedding,
               @Model, now() + c.default_ttl
        FROM query_cache_backfill_stage s CROSS JOIN LATERAL {Schema}.query_cache_effective_config(s.tenant_id) c
        ON CONFLICT (user_message_id, embedding_model) DO NOTHING
        """;

    private const string CheckpointSql = $"""
        UPDATE {Schema}.{JobStateTable}
        SET cursor_asked_at = @CursorAskedAt, cursor_user_message_id = @CursorUserMessageId, processed = @Processed, added = @Added,
            already_cached = @AlreadyCached, skipped = @Skipped, failed = @Failed, updated_at = now()
        WHERE job = @Job
        """;

    private const string FinishSql = $"""
        UPDATE {Schema}.{JobStateTable}
        SET status = @Status, processed = @Processed, error = @Error, updated_at = now(),
            finished_at = CASE WHEN @Status = 'running' THEN NULL ELSE now() END
        WHERE job = @Job
        """;

    private readonly QueryCacheOptions _cacheOptions = cacheOptions.Value;
    private readonly QueryCacheJobOptions _jobOptions = jobOptions.Value;

    /// <summary>
    /// Caches every answered pair of the history not cached yet: reads in keyset batches, embeds, bulk-inserts, and commits
    /// the checkpoint with each batch. An unfinished run with the same filter is resumed. Returns the run's final state.
    /// </summary>
    public async Task<QueryCacheJobStatus> RunBackfillAsync(BackfillRequest request, IProgress<QueryCacheJobStatus>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.TenantId is not null)
        {
            Guard.TenantId(request.TenantId, "request.TenantId");
        }

        var generator = embeddingGenerator ?? throw new InvalidOperationException(
            "The backfill embeds questions with the registered IEmbeddingGenerator<string, Embedding<float>>, and none is registered. Register one (Microsoft.Extensions.AI).");

        var connection = await dataSource.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        await AcquireAsync(connection, BackfillLockKey, BackfillJob, cancellationToken).ConfigureAwait(false);

        var filter = new
        {
            request.TenantId,
            Since = request.Since?.ToUniversalTime(),
            Until = request.Until?.ToUniversalTime(),
        };
        var state = await StartBackfillAsync(connection, filter.TenantId, filter.Since, filter.Until, cancellationToken).ConfigureAwait(false);
        Log.BackfillStarted(logger, state.Processed, state.Total ?? 0, state.CursorAskedAt is not null);
        progress?.Report(state);

        try
        {
            await connection.ExecuteAsync(CreateStageSql).ConfigureAwait(false);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = (await connection.QueryAsync<PairRow>(new CommandDefinition(ReadBatchSql, new
                {
                    filter.TenantId,
                    filter.Since,
                    filter.Until,
                    Model = _cacheOptions.EmbeddingModel,
                    AfterAskedAt = state.CursorAskedAt?.UtcDateTime,
                    AfterId = state.CursorUserMessageId,
                    BatchSize = _jobOptions.BackfillBatchSize,
                }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
                if (batch.Count == 0)
                {
                    break;
                }

                state = await ProcessBatchAsync(connection, generator, batch, state, cancellationToken).ConfigureAwait(false);
                Log.BackfillProgress(logger, state.Processed, state.Total ?? 0, state.Added, state.Rate,
                    state.EstimatedRemaining?.TotalSeconds ?? 0);
                progress?.Report(state);
            }

            return await FinishAsync(connection, state, "completed", null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await TryFinishAsync(connection, state, "interrupted", null).ConfigureAwait(false);
            Log.BackfillInterrupted(logger, state.Processed);
            throw;
        }
        catch (Exception ex)
        {
            await TryFinishAsync(connection, state, "failed", ex.Message).ConfigureAwait(false);
            Log.JobFailed(logger, ex, BackfillJob);
            throw;
        }
        finally
        {
            await ReleaseAsync(connection, BackfillLockKey).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Deletes expired entries, then the least recently used over each tenant's cap and the global cap, in small
    /// batches; vacuums after a large deletion. Returns the run's final state (<see cref="QueryCacheJobStatus.Processed"/> = deleted).
    /// </summary>
    public async Task<QueryCacheJobStatus> RunCleanupAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        await AcquireAsync(connection, CleanupLockKey, CleanupJob, cancellationToken).ConfigureAwait(false);
        var state = new QueryCacheJobStatus { Job = CleanupJob, Status = "running", StartedAt = DateTimeOffset.UtcNow };
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(StartSql, StateParameters(state), cancellationToken: cancellationToken)).ConfigureAwait(false);
            long deleted = 0;
            int batch;
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                    $"SELECT {Schema}.{CleanupFunction}(@BatchSize)", new { BatchSize = _jobOptions.CleanupBatchSize },
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                deleted += batch;
                metrics.Evicted(batch);
            }
            while (batch > 0);

            if (_jobOptions.VacuumAfterDeletedEntries > 0 && deleted >= _jobOptions.VacuumAfterDeletedEntries)
            {
                // Returns the dead tuples' space and repairs the HNSW graph around the deleted entries.
                await connection.ExecuteAsync(new CommandDefinition($"VACUUM (ANALYZE) {Schema}.{EmbeddingsTable}",
                    commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            Log.CleanupFinished(logger, deleted);
            return await FinishAsync(connection, state with { Processed = deleted }, "completed", null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await TryFinishAsync(connection, state, "interrupted", null).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex)
        {
            await TryFinishAsync(connection, state, "failed", ex.Message).ConfigureAwait(false);
            Log.JobFailed(logger, ex, CleanupJob);
            throw;
        }
        finally
        {
            await ReleaseAsync(connection, CleanupLockKey).ConfigureAwait(false);
        }
    }

    /// <summary>The current or last run of <paramref name="job"/>, or null before its first.</summary>
    public async Task<QueryCacheJobStatus?> GetStatusAsync(string job, CancellationToken cancellationToken)
    {
        using var connection = dataSource.DataSource.CreateConnection();
        var row = await connection.QuerySingleOrDefaultAsync<StateRow>(new CommandDefinition(StatusSql,
            new { Job = job, LockKey = job == BackfillJob ? BackfillLockKey : CleanupLockKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToStatus();
    }

    private static async Task<QueryCacheJobStatus> StartBackfillAsync(NpgsqlConnection connection, string? tenantId, DateTimeOffset? since,
        DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var previous = await connection.QuerySingleOrDefaultAsync<StateRow>(new CommandDefinition(StatusSql,
            new { Job = BackfillJob, LockKey = BackfillLockKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var resumable = previous is not null && previous.Status != "completed"
            && previous.TenantFilter == tenantId && Same(previous.SinceFilter, since) && Same(previous.UntilFilter, until);

        var state = resumable
            ? previous!.ToStatus() with { Status = "running" }
            : new QueryCacheJobStatus
            {
                Job = BackfillJob,
                Status = "running",
                TenantId = tenantId,
                Since = since,
                Until = until,
                StartedAt = DateTimeOffset.UtcNow,
                Total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountPairsSql,
                    new { TenantId = tenantId, Since = since, Until = until }, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false),
            };
        await connection.ExecuteAsync(new CommandDefinition(StartSql, StateParameters(state), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return state with { UpdatedAt = DateTimeOffset.UtcNow };
    }

    private async Task<QueryCacheJobStatus> ProcessBatchAsync(NpgsqlConnection connection,
        IEmbeddingGenerator<string, Embedding<float>> generator, List<PairRow> batch, QueryCacheJobStatus state, CancellationToken cancellationToken)
    {
        var toCache = new List<PairRow>(batch.Count);
        long alreadyCached = 0, skipped = 0;
        foreach (var pair in batch)
        {
            if (pair.Cached)
            {
                alreadyCached++;
            }
            else if (!pair.Erased && IsCacheable(pair))
            {
                toCache.Add(pair);
            }
            else
            {
                skipped++;
            }
        }

        var embedded = await EmbedAsync(generator, toCache, cancellationToken).ConfigureAwait(false);
        var failed = toCache.Count - embedded.Count;

        var last = batch[^1];
        var next = state with
        {
            CursorAskedAt = new DateTimeOffset(DateTime.SpecifyKind(last.AskedAt, DateTimeKind.Utc)),
            CursorUserMessageId = last.UserMessageId,
            Processed = state.Processed + batch.Count,
            AlreadyCached = state.AlreadyCached + alreadyCached,
            Skipped = state.Skipped + skipped,
            Failed = state.Failed + failed,
            UpdatedAt = DateTimeOffset.UtcNow,
        };

        // The entries and the checkpoint commit together: after a crash the next run starts exactly after this batch.
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);
        var added = 0;
        if (embedded.Count > 0)
        {
            var import = await connection.BeginBinaryImportAsync(CopyStageSql, cancellationToken).ConfigureAwait(false);
            await using (import.ConfigureAwait(false))
            {
                foreach (var (pair, embedding) in embedded)
                {
                    await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.TenantId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(_jobOptions.BackfillPrivateToUser ? pair.UserId : null, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.UserId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.UserMessageId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.AssistantMessageId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.Question, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(QueryText.Hash(pair.Question), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(pair.Answer, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await import.WriteAsync(new Vector(embedding), cancellationToken).ConfigureAwait(false);
                }

                await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            added = await connection.ExecuteAsync(new CommandDefinition(InsertStagedSql, new { Model = _cacheOptions.EmbeddingModel },
                transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        // A pair cached meanwhile by a live store is counted as already cached, not added.
        next = next with { Added = state.Added + added, AlreadyCached = next.AlreadyCached + (embedded.Count - added) };
        await connection.ExecuteAsync(new CommandDefinition(CheckpointSql, StateParameters(next), transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        metrics.Backfilled(added, "added");
        metrics.Backfilled(alreadyCached + embedded.Count - added, "already_cached");
        metrics.Backfilled(skipped, "skipped");
        metrics.Backfilled(failed, "failed");
        return next;
    }

    /// <summary>Embeds in batches; a failed batch is retried question by question, and a question that still fails is left out (counted as failed).</summary>
    private async Task<List<(PairRow Pair, ReadOnlyMemory<float> Embedding)>> EmbedAsync(
        IEmbeddingGenerator<string, Embedding<float>> generator, List<PairRow> pairs, CancellationToken cancellationToken)
    {
        var result = new List<(PairRow, ReadOnlyMemory<float>)>(pairs.Count);
        foreach (var chunk in pairs.Chunk(_jobOptions.EmbeddingBatchSize))
        {
            GeneratedEmbeddings<Embedding<float>>? embeddings = null;
            try
            {
                embeddings = await generator.GenerateAsync(chunk.Select(p => p.Question), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.EmbeddingBatchFailed(logger, ex, chunk.Length);
            }

            if (embeddings is not null && embeddings.Count == chunk.Length)
            {
                for (var i = 0; i < chunk.Length; i++)
                {
                    AddIfValid(result, chunk[i], embeddings[i].Vector);
                }

                continue;
            }

            foreach (var pair in chunk)
            {
                try
                {
                    var one = await generator.GenerateAsync(pair.Question, cancellationToken: cancellationToken).ConfigureAwait(false);
                    AddIfValid(result, pair, one.Vector);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.EmbeddingFailed(logger, ex, pair.UserMessageId);
                }
            }
        }

        return result;
    }

    private void AddIfValid(List<(PairRow, ReadOnlyMemory<float>)> result, PairRow pair, ReadOnlyMemory<float> embedding)
    {
        try
        {
            Guard.Embedding(embedding.Span, _cacheOptions.Dimensions, nameof(embedding));
            result.Add((pair, embedding));
        }
        catch (ArgumentException ex)
        {
            Log.EmbeddingFailed(logger, ex, pair.UserMessageId);
        }
    }

    private static bool IsCacheable(PairRow pair) =>
        !string.IsNullOrWhiteSpace(pair.TenantId) && pair.TenantId.Length <= MaxScopeIdLength
        && !string.IsNullOrWhiteSpace(pair.Question) && pair.Question.Length <= MaxQueryTextLength
        && !string.IsNullOrWhiteSpace(pair.Answer) && pair.Answer.Length <= MaxAnswerLength;

    private static async Task AcquireAsync(NpgsqlConnection connection, long key, string job, CancellationToken cancellationToken)
    {
        var acquired = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@key)", new { key },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!acquired)
        {
            throw new QueryCacheJobBusyException(job);
        }
    }

    private static async Task ReleaseAsync(NpgsqlConnection connection, long key)
    {
        if (connection.FullState == System.Data.ConnectionState.Open)
        {
            try
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key }).ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // The connection died: the server released its locks with it.
            }
        }
    }

    private static async Task<QueryCacheJobStatus> FinishAsync(NpgsqlConnection connection, QueryCacheJobStatus state, string status,
        string? error, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(FinishSql, new { state.Job, Status = status, state.Processed, Error = error },
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        return state with { Status = status, Error = error, UpdatedAt = now, FinishedAt = now };
    }

    /// <summary>Records how a run ended when the connection still allows it; the lock check reports a dead run otherwise.</summary>
    private async Task TryFinishAsync(NpgsqlConnection connection, QueryCacheJobStatus state, string status, string? error)
    {
        try
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await FinishAsync(connection, state, status, error, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex)
        {
            Log.JobStateNotSaved(logger, ex, state.Job);
        }
    }

    private static object StateParameters(QueryCacheJobStatus s) => new
    {
        s.Job,
        TenantFilter = s.TenantId,
        SinceFilter = s.Since,
        UntilFilter = s.Until,
        CursorAskedAt = s.CursorAskedAt,
        s.CursorUserMessageId,
        s.Total,
        s.Processed,
        s.Added,
        s.AlreadyCached,
        s.Skipped,
        s.Failed,
        s.StartedAt,
    };

    private static bool Same(DateTime? stored, DateTimeOffset? requested) =>
        stored is null ? requested is null : requested is not null && stored.Value == requested.Value.UtcDateTime;

    private sealed record PairRow(Guid UserMessageId, Guid AssistantMessageId, string TenantId, string? UserId, string Question,
        string Answer, DateTime AskedAt, bool Cached, bool Erased);

    private sealed record StateRow(string Job, string Status, string? TenantFilter, DateTime? SinceFilter, DateTime? UntilFilter,
        DateTime? CursorAskedAt, Guid? CursorUserMessageId, long? Total, long Processed, long Added, long AlreadyCached, long Skipped,
        long Failed, DateTime StartedAt, DateTime UpdatedAt, DateTime? FinishedAt, string? Error, bool Orphaned)
    {
        public QueryCacheJobStatus ToStatus() => new()
        {
            Job = Job,
            Status = Status == "running" && Orphaned ? "interrupted" : Status,
            TenantId = TenantFilter,
            Since = Utc(SinceFilter),
            Until = Utc(UntilFilter),
            CursorAskedAt = Utc(CursorAskedAt),
            CursorUserMessageId = CursorUserMessageId,
            Total = Total,
            Processed = Processed,
            Added = Added,
            AlreadyCached = AlreadyCached,
            Skipped = Skipped,
            Failed = Failed,
            StartedAt = Utc(StartedAt)!.Value,
            UpdatedAt = Utc(UpdatedAt)!.Value,
            FinishedAt = Utc(FinishedAt),
            Error = Error,
        };

        private static DateTimeOffset? Utc(DateTime? value) =>
            value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
    }
}
