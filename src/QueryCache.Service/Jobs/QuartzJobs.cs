using Microsoft.Extensions.Logging;
using Quartz;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>The backfill as a Quartz job: never two at once, resumes from its checkpoint, stops on interrupt.</summary>
[DisallowConcurrentExecution]
internal sealed class QueryCacheBackfillJob(BackfillRun backfill, ILogger<QueryCacheBackfillJob> logger) : IJob
{
    internal const string TenantKey = "tenant";
    internal const string SinceKey = "since";
    internal const string UntilKey = "until";

    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var data = context.MergedJobDataMap;
        var request = new BackfillRequest
        {
            TenantId = data.TryGetString(TenantKey, out var tenant) ? tenant : null,
            Since = Instant(data, SinceKey),
            Until = Instant(data, UntilKey),
        };
        return QuartzExecution.RunAsync(context, logger, MaintenanceJob.Backfill, ct => backfill.RunAsync(request, progress: null, ct), cancellationToken);
    }

    /// <summary>Job data carries instants as round-trip ("O") strings, so the clustered store can keep them as text.</summary>
    internal static string Format(DateTimeOffset instant) => instant.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset? Instant(JobDataMap data, string key) =>
        data.TryGetString(key, out var text) && text is not null
            ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind)
            : null;
}

/// <summary>The cleanup as a Quartz job: expired entries, then the size caps; never two at once.</summary>
[DisallowConcurrentExecution]
internal sealed class QueryCacheCleanupJob(CleanupRun cleanup, ILogger<QueryCacheCleanupJob> logger) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        QuartzExecution.RunAsync(context, logger, MaintenanceJob.Cleanup, cleanup.RunAsync, cancellationToken);
}

/// <summary>Runs a maintenance job under Quartz's rules: an interrupt ends it quietly, a busy job is skipped, a failure becomes <see cref="JobExecutionException"/>.</summary>
internal static class QuartzExecution
{
    public static async ValueTask RunAsync(IJobExecutionContext context, ILogger logger, MaintenanceJob job,
        Func<CancellationToken, Task<QueryCacheJobStatus>> run, CancellationToken cancellationToken)
    {
        try
        {
            context.Result = await run(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted (shutdown or IScheduler.Interrupt): the state says so, and a backfill keeps its checkpoint.
        }
        catch (QueryCacheJobBusyException)
        {
            Log.JobBusy(logger, job.Name);
        }
        catch (Exception ex)
        {
            throw new JobExecutionException($"The query cache {job.Name} failed: {ex.Message}", ex);
        }
    }
}

/// <summary>Triggers the jobs through the host's scheduler and reads their state from the database.</summary>
internal sealed class QueryCacheJobTrigger(ISchedulerFactory schedulerFactory, JobStateStore states) : IQueryCacheJobs
{
    public async Task TriggerBackfillAsync(BackfillRequest? request = null, CancellationToken cancellationToken = default)
    {
        var data = new JobDataMap();
        if (request?.TenantId is { } tenant)
        {
            data.Add(QueryCacheBackfillJob.TenantKey, Check.TenantId(tenant, "request.TenantId"));
        }

        if (request?.Since is { } since)
        {
            data.Add(QueryCacheBackfillJob.SinceKey, QueryCacheBackfillJob.Format(since));
        }

        if (request?.Until is { } until)
        {
            data.Add(QueryCacheBackfillJob.UntilKey, QueryCacheBackfillJob.Format(until));
        }

        var scheduler = await schedulerFactory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(QueryCacheJobKeys.Backfill, data, cancellationToken).ConfigureAwait(false);
    }

    public async Task TriggerCleanupAsync(CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(QueryCacheJobKeys.Cleanup, cancellationToken).ConfigureAwait(false);
    }

    public Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default) =>
        states.ReadAsync(MaintenanceJob.Backfill, cancellationToken);

    public Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default) =>
        states.ReadAsync(MaintenanceJob.Cleanup, cancellationToken);
}
