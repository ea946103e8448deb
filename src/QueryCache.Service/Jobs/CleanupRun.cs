using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>
/// Indexes entries a store left unindexed (an instance that stopped before its background pass), then deletes expired
/// entries and the least recently used over each tenant's cap and the global cap, in batches of
/// <see cref="QueryCacheJobOptions.CleanupBatchSize"/>; vacuums after a large deletion. The run's
/// <see cref="QueryCacheJobStatus.Processed"/> is the number of entries deleted, also when it is interrupted.
/// </summary>
internal sealed class CleanupRun(JobRunner runner, QueryCacheMetrics metrics, IOptions<QueryCacheJobOptions> options, ILogger<CleanupRun> logger)
{
    private readonly QueryCacheJobOptions _options = options.Value;

    public Task<QueryCacheJobStatus> RunAsync(CancellationToken cancellationToken) =>
        runner.RunAsync(MaintenanceJob.Cleanup, (_, _) => Task.FromResult(new QueryCacheJobStatus
        {
            Job = MaintenanceJob.Cleanup.Name,
            Status = JobRunStatus.Running,
            StartedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        }), async (run, ct) =>
        {
            while (await run.Connection.ExecuteScalarAsync<int>(new CommandDefinition(CacheStatements.IndexPending,
                       new { PendingIndexer.BatchSize, SynchronousCommit = (string?)null }, cancellationToken: ct)).ConfigureAwait(false) > 0)
            {
            }

            int deleted;
            do
            {
                ct.ThrowIfCancellationRequested();
                deleted = await run.Connection.ExecuteScalarAsync<int>(new CommandDefinition(CacheStatements.CleanupBatch,
                    new { BatchSize = _options.CleanupBatchSize }, cancellationToken: ct)).ConfigureAwait(false);
                run.Status = run.Status with { Processed = run.Status.Processed + deleted, UpdatedAt = DateTimeOffset.UtcNow };
                metrics.Evicted(deleted);
            }
            while (deleted > 0);

            if (_options.VacuumAfterDeletedEntries > 0 && run.Status.Processed >= _options.VacuumAfterDeletedEntries)
            {
                await run.Connection.ExecuteAsync(new CommandDefinition(CacheStatements.Vacuum, commandTimeout: 0, cancellationToken: ct))
                    .ConfigureAwait(false);
            }

            Log.CleanupFinished(logger, run.Status.Processed);
        }, cancellationToken);
}
