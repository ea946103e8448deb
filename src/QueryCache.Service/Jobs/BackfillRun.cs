using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>
/// Caches every answered pair of the history not cached yet: reads <see cref="QueryCacheSchema.QaPairs"/> in keyset
/// batches, embeds them, bulk-inserts them with binary COPY and commits the checkpoint with each batch, so a run that
/// dies loses at most the batch in flight and the next run with the same filter resumes after it.
/// </summary>
internal sealed class BackfillRun(
    JobRunner runner,
    BackfillEmbedder embedder,
    ICacheAdmissionPolicy admission,
    QueryCacheMetrics metrics,
    IOptions<QueryCacheOptions> cacheOptions,
    IOptions<QueryCacheJobOptions> jobOptions,
    TimeProvider timeProvider,
    ILogger<BackfillRun> logger)
{
    private readonly QueryCacheOptions _cacheOptions = cacheOptions.Value;
    private readonly QueryCacheJobOptions _jobOptions = jobOptions.Value;

    public Task<QueryCacheJobStatus> RunAsync(BackfillRequest request, IProgress<QueryCacheJobStatus>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        Check.OptionalIdentifier(request.TenantId, "tenant id");

        embedder.EnsureAvailable();
        var filter = new BackfillRequest { TenantId = request.TenantId, Since = request.Since?.ToUniversalTime(), Until = request.Until?.ToUniversalTime() };
        return runner.RunAsync(MaintenanceJob.Backfill, (connection, ct) => StartAsync(connection, filter, ct), async (run, ct) =>
        {
            Log.BackfillStarted(logger, run.Status.Processed, run.Status.Total ?? 0, run.Status.CursorAskedAt is not null);
            progress?.Report(run.Status);
            await run.Connection.ExecuteAsync(CacheStatements.CreateStage).ConfigureAwait(false);
            while (await ReadBatchAsync(run, filter, ct).ConfigureAwait(false) is { Count: > 0 } batch)
            {
                run.Status = await CommitBatchAsync(run, batch, ct).ConfigureAwait(false);
                Log.BackfillProgress(logger, run.Status.Processed, run.Status.Total ?? 0, run.Status.Added, run.Status.Rate,
                    run.Status.EstimatedRemaining?.TotalSeconds ?? 0);
                progress?.Report(run.Status);
            }
        }, cancellationToken);
    }

    /// <summary>Resumes an unfinished run with the same filter, else starts afresh with the number of pairs to read.</summary>
    private async Task<QueryCacheJobStatus> StartAsync(NpgsqlConnection connection, BackfillRequest filter, CancellationToken cancellationToken)
    {
        var previous = await JobStateStore.ReadAsync(connection, MaintenanceJob.Backfill, cancellationToken).ConfigureAwait(false);
        if (previous is not null && previous.Status != JobRunStatus.Completed
            && previous.TenantId == filter.TenantId && previous.Since == filter.Since && previous.Until == filter.Until)
        {
            return previous with { Status = JobRunStatus.Running, UpdatedAt = timeProvider.GetUtcNow(), FinishedAt = null, Error = null };
        }

        var now = timeProvider.GetUtcNow();
        return new QueryCacheJobStatus
        {
            Job = MaintenanceJob.Backfill.Name,
            Status = JobRunStatus.Running,
            TenantId = filter.TenantId,
            Since = filter.Since,
            Until = filter.Until,
            StartedAt = now,
            UpdatedAt = now,
            Total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CacheStatements.CountPairs,
                new { filter.TenantId, filter.Since, filter.Until }, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false),
        };
    }

    private async Task<List<Pair>> ReadBatchAsync(JobRun run, BackfillRequest filter, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return (await run.Connection.QueryAsync<Pair>(new CommandDefinition(CacheStatements.ReadPairs, new
        {
            filter.TenantId,
            filter.Since,
            filter.Until,
            Model = _cacheOptions.EmbeddingModel,
            AfterAskedAt = run.Status.CursorAskedAt?.UtcDateTime,
            AfterId = run.Status.CursorUserMessageId,
            BatchSize = _jobOptions.BackfillBatchSize,
        }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList();
    }

    /// <summary>Embeds the batch's new pairs and commits them together with the checkpoint after the batch.</summary>
    private async Task<QueryCacheJobStatus> CommitBatchAsync(JobRun run, List<Pair> batch, CancellationToken cancellationToken)
    {
        var alreadyCached = batch.Count(p => p.Cached);
        // The admission policy's lifetime for each pair it lets in (null: the configured default).
        var lifetimes = new Dictionary<Guid, TimeSpan?>();
        foreach (var pair in batch.Where(p => !p.Cached && !p.Erased && IsCacheable(p)))
        {
            var decision = admission.Decide(new CacheScope(pair.TenantId, _jobOptions.BackfillPrivateToUser ? pair.UserId : null), pair.Question, pair.Answer);
            if (decision.Admitted)
            {
                lifetimes[pair.UserMessageId] = decision.TimeToLive;
            }
        }

        var toCache = batch.Where(p => lifetimes.ContainsKey(p.UserMessageId)).ToList();
        var skipped = batch.Count - alreadyCached - toCache.Count;
        var embedded = await embedder.EmbedAsync(toCache, p => p.Question, p => p.UserMessageId, cancellationToken).ConfigureAwait(false);

        var transaction = await run.Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);
        var added = embedded.Count == 0 ? 0 : await InsertAsync(run.Connection, transaction, embedded, lifetimes, cancellationToken).ConfigureAwait(false);

        // A pair cached meanwhile by a live store counts as already cached, not added.
        var raced = embedded.Count - added;
        var last = batch[^1];
        var next = run.Status with
        {
            CursorAskedAt = DatabaseTime.ToOffset(last.AskedAt),
            CursorUserMessageId = last.UserMessageId,
            Processed = run.Status.Processed + batch.Count,
            Added = run.Status.Added + added,
            AlreadyCached = run.Status.AlreadyCached + alreadyCached + raced,
            Skipped = run.Status.Skipped + skipped,
            Failed = run.Status.Failed + toCache.Count - embedded.Count,
            UpdatedAt = timeProvider.GetUtcNow(),
        };
        await JobStateStore.SaveAsync(run.Connection, next, cancellationToken, transaction).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        metrics.Backfilled(added, "added");
        metrics.Backfilled(alreadyCached + raced, "already_cached");
        metrics.Backfilled(skipped, "skipped");
        metrics.Backfilled(toCache.Count - embedded.Count, "failed");
        return next;
    }

    private async Task<int> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(Pair Pair, ReadOnlyMemory<float> Embedding)> embedded, Dictionary<Guid, TimeSpan?> lifetimes, CancellationToken cancellationToken)
    {
        var import = await connection.BeginBinaryImportAsync(CacheStatements.CopyToStage, cancellationToken).ConfigureAwait(false);
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
                await import.WriteAsync(lifetimes[pair.UserMessageId], NpgsqlDbType.Interval, cancellationToken).ConfigureAwait(false);
            }

            await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        return await connection.ExecuteAsync(new CommandDefinition(CacheStatements.InsertStaged, new { Model = _cacheOptions.EmbeddingModel },
            transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private static bool IsCacheable(Pair pair) =>
        !string.IsNullOrWhiteSpace(pair.TenantId) && pair.TenantId.Length <= QueryCacheSchema.MaxScopeIdLength
        && !string.IsNullOrWhiteSpace(pair.Question) && pair.Question.Length <= QueryCacheSchema.MaxQueryTextLength
        && !string.IsNullOrWhiteSpace(pair.Answer) && pair.Answer.Length <= QueryCacheSchema.MaxAnswerLength;

    /// <summary>A row of the Q&amp;A view, with whether it is cached already and whether its user was erased since.</summary>
    private sealed record Pair(Guid UserMessageId, Guid AssistantMessageId, string TenantId, string? UserId, string Question,
        string Answer, DateTime AskedAt, bool Cached, bool Erased);
}
