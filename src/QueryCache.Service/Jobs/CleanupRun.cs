using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>
/// Indexes entries a store left unindexed (an instance that stopped before its background pass), then deletes expired
/// entries and the least recently used over each tenant's cap and the global cap, in batches of
/// <see cref="QueryCacheJobOptions.CleanupBatchSize"/>, and the embedding cache's expired vectors; after a large deletion vacuums, rebuilding the HNSW graphs first
/// when that is cheaper than VACUUM's repair of the graph; last, refits the learned decisions that have new labels. The run's
/// <see cref="QueryCacheJobStatus.Processed"/> is the number of entries deleted, also when it is interrupted.
/// </summary>
internal sealed class CleanupRun(JobRunner runner, DecisionStore decisions, IndexBuilds indexBuilds, QueryCacheMetrics metrics, IOptions<QueryCacheJobOptions> options,
    TimeProvider timeProvider, ILogger<CleanupRun> logger)
{
    private readonly QueryCacheJobOptions _options = options.Value;

    public Task<QueryCacheJobStatus> RunAsync(CancellationToken cancellationToken) =>
        runner.RunAsync(MaintenanceJob.Cleanup, (_, _) => Task.FromResult(new QueryCacheJobStatus
        {
            Job = MaintenanceJob.Cleanup.Name,
            Status = JobRunStatus.Running,
            StartedAt = timeProvider.GetUtcNow(),
            UpdatedAt = timeProvider.GetUtcNow(),
        }), async (run, ct) =>
        {
            while (await run.Connection.ExecuteScalarAsync<int>(new CommandDefinition(CacheStatements.IndexPending,
                       new { PendingIndexer.BatchSize, SynchronousCommit = (string?)null }, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
            }

            var entriesBefore = await run.Connection.ExecuteScalarAsync<long>(new CommandDefinition(CacheStatements.CountEntries,
                cancellationToken: ct)).ConfigureAwait(false);
            int deleted;
            do
            {
                ct.ThrowIfCancellationRequested();
                deleted = await run.Connection.ExecuteScalarAsync<int>(new CommandDefinition(CacheStatements.CleanupBatch,
                    new { BatchSize = _options.CleanupBatchSize }, cancellationToken: ct)).ConfigureAwait(false);
                run.Status = run.Status with { Processed = run.Status.Processed + deleted, UpdatedAt = timeProvider.GetUtcNow() };
                metrics.Evicted(deleted);
            }
            while (deleted > 0);

            // The embedding cache's expired vectors; they do not count as evicted entries.
            while (await run.Connection.ExecuteAsync(new CommandDefinition(CacheStatements.DeleteExpiredTextEmbeddings,
                       new { BatchSize = _options.CleanupBatchSize }, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            if (_options.VacuumAfterDeletedEntries > 0 && run.Status.Processed >= _options.VacuumAfterDeletedEntries
                && !await run.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.OwnsCacheTables, cancellationToken: ct)).ConfigureAwait(false))
            {
                Log.MaintenanceNotOwner(logger, run.Status.Processed);
            }
            else if (_options.VacuumAfterDeletedEntries > 0 && run.Status.Processed >= _options.VacuumAfterDeletedEntries)
            {
                if (_options.ReindexAfterDeletedFraction > 0 && run.Status.Processed >= _options.ReindexAfterDeletedFraction * entriesBefore)
                {
                    await indexBuilds.RebuildGraphsAsync(run.Connection, ct).ConfigureAwait(false);
                }

                await run.Connection.ExecuteAsync(new CommandDefinition(CacheStatements.Vacuum, commandTimeout: 0, cancellationToken: ct))
                    .ConfigureAwait(false);
            }

            // The learned decisions whose labels changed since they were fitted.
            await decisions.RefitStaleAsync(ct).ConfigureAwait(false);
            Log.CleanupFinished(logger, run.Status.Processed);
        }, cancellationToken);
}
