using Microsoft.Extensions.Logging;
using Npgsql;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>A run in progress: its connection (the holder of its lock) and its latest state, which the body keeps current.</summary>
internal sealed class JobRun(NpgsqlConnection connection, QueryCacheJobStatus status)
{
    public NpgsqlConnection Connection { get; } = connection;

    public QueryCacheJobStatus Status { get; set; } = status;
}

/// <summary>
/// The frame every maintenance run shares: its own connection, the job's advisory lock (so two runs of a job never
/// overlap, whichever instance or entry point starts them), its state saved as it starts and as it ends — completed,
/// interrupted (cancelled; a backfill resumes from its checkpoint) or failed — with the figures it reached.
/// </summary>
internal sealed class JobRunner(CacheDataSource database, TimeProvider timeProvider, ILogger<JobRunner> logger)
{
    /// <param name="job">Which job runs.</param>
    /// <param name="start">The run's first state, given the locked connection (a backfill resumes a previous one here).</param>
    /// <param name="body">The work; it keeps <see cref="JobRun.Status"/> current.</param>
    /// <param name="cancellationToken">Interrupts the run between batches.</param>
    public async Task<QueryCacheJobStatus> RunAsync(MaintenanceJob job, Func<NpgsqlConnection, CancellationToken, Task<QueryCacheJobStatus>> start,
        Func<JobRun, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        var connection = await database.Primary.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        if (!await AdvisoryLock.TryAcquireAsync(connection, job.LockKey, cancellationToken).ConfigureAwait(false))
        {
            throw new QueryCacheJobBusyException(job.Name);
        }
        try
        {
            var run = new JobRun(connection, await start(connection, cancellationToken).ConfigureAwait(false));
            await JobStateStore.SaveAsync(connection, run.Status, cancellationToken).ConfigureAwait(false);
            try
            {
                await body(run, cancellationToken).ConfigureAwait(false);
                return await FinishAsync(run, JobRunStatus.Completed, null).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await TryFinishAsync(run, JobRunStatus.Interrupted, null).ConfigureAwait(false);
                Log.JobInterrupted(logger, job.Name, run.Status.Processed);
                throw;
            }
            catch (Exception ex)
            {
                await TryFinishAsync(run, JobRunStatus.Failed, ex.Message).ConfigureAwait(false);
                Log.JobFailed(logger, ex, job.Name);
                throw;
            }
        }
        finally
        {
            await AdvisoryLock.ReleaseAsync(connection, job.LockKey).ConfigureAwait(false);
        }
    }

    private async Task<QueryCacheJobStatus> FinishAsync(JobRun run, JobRunStatus status, string? error)
    {
        var now = timeProvider.GetUtcNow();
        run.Status = run.Status with { Status = status, Error = error, UpdatedAt = now, FinishedAt = now };
        await JobStateStore.SaveAsync(run.Connection, run.Status, CancellationToken.None).ConfigureAwait(false);
        return run.Status;
    }

    /// <summary>Records how a run ended when its connection still allows it; reading the state reports a dead run otherwise.</summary>
    private async Task TryFinishAsync(JobRun run, JobRunStatus status, string? error)
    {
        try
        {
            if (run.Connection.FullState == System.Data.ConnectionState.Open)
            {
                await FinishAsync(run, status, error).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException ex)
        {
            Log.JobStateNotSaved(logger, ex, run.Status.Job);
        }
    }
}
