using Microsoft.Extensions.Logging;
using Quartz;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>The backfill as a Quartz job: never two at once (registered with DisallowConcurrentExecution and guarded by a database lock), resumes from its checkpoint, stops on interrupt.</summary>
public sealed class QueryCacheBackfillJob : IJob
{
    public static readonly JobKey Key = new("querycache-backfill", "querycache");

    internal const string TenantKey = "tenant";
    internal const string SinceKey = "since";
    internal const string UntilKey = "until";

    private readonly QueryCacheMaintenance _maintenance;
    private readonly ILogger _logger;

    internal QueryCacheBackfillJob(QueryCacheMaintenance maintenance, ILogger<QueryCacheBackfillJob> logger)
    {
        _maintenance = maintenance;
        _logger = logger;
    }

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = context.MergedJobDataMap;
        var request = new BackfillRequest
        {
            TenantId = data.TryGetString(TenantKey, out var tenant) ? tenant : null,
            Since = data.TryGetString(SinceKey, out var since) && since is not null ? DateTimeOffset.Parse(since, System.Globalization.CultureInfo.InvariantCulture) : null,
            Until = data.TryGetString(UntilKey, out var until) && until is not null ? DateTimeOffset.Parse(until, System.Globalization.CultureInfo.InvariantCulture) : null,
        };
        await RunAsync(context, _logger, QueryCacheMaintenance.BackfillJob,
            ct => _maintenance.RunBackfillAsync(request, progress: null, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a maintenance job under Quartz's rules: interrupts end it quietly, failures become <see cref="JobExecutionException"/>.</summary>
    internal static async ValueTask RunAsync(IJobExecutionContext context, ILogger logger, string job,
        Func<CancellationToken, Task<QueryCacheJobStatus>> run, CancellationToken cancellationToken)
    {
        try
        {
            context.Result = await run(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted (shutdown or IScheduler.Interrupt): the checkpoint is kept for the next run.
        }
        catch (QueryCacheJobBusyException)
        {
            Log.JobBusy(logger, job);
        }
        catch (Exception ex)
        {
            throw new JobExecutionException($"The query cache {job} failed: {ex.Message}", ex);
        }
    }
}

/// <summary>The cleanup as a Quartz job: expired entries, then the size caps; never two at once.</summary>
public sealed class QueryCacheCleanupJob : IJob
{
    public static readonly JobKey Key = new("querycache-cleanup", "querycache");
    public static readonly TriggerKey ScheduleKey = new("querycache-cleanup-schedule", "querycache");

    private readonly QueryCacheMaintenance _maintenance;
    private readonly ILogger _logger;

    internal QueryCacheCleanupJob(QueryCacheMaintenance maintenance, ILogger<QueryCacheCleanupJob> logger)
    {
        _maintenance = maintenance;
        _logger = logger;
    }

    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return QueryCacheBackfillJob.RunAsync(context, _logger, QueryCacheMaintenance.CleanupJob, _maintenance.RunCleanupAsync, cancellationToken);
    }
}

/// <summary>Triggers the jobs through the host's scheduler and reads their state from the database.</summary>
internal sealed class QueryCacheJobTrigger(ISchedulerFactory schedulerFactory, QueryCacheMaintenance maintenance) : IQueryCacheJobs
{
    public async Task TriggerBackfillAsync(BackfillRequest? request = null, CancellationToken cancellationToken = default)
    {
        if (request?.TenantId is not null)
        {
            Guard.TenantId(request.TenantId, "request.TenantId");
        }

        var data = new JobDataMap();
        if (request?.TenantId is { } tenant)
        {
            data.Add(QueryCacheBackfillJob.TenantKey, tenant);
        }

        if (request?.Since is { } since)
        {
            data.Add(QueryCacheBackfillJob.SinceKey, since.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (request?.Until is { } until)
        {
            data.Add(QueryCacheBackfillJob.UntilKey, until.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }

        var scheduler = await schedulerFactory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(QueryCacheBackfillJob.Key, data, cancellationToken).ConfigureAwait(false);
    }

    public async Task TriggerCleanupAsync(CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.TriggerJob(QueryCacheCleanupJob.Key, cancellationToken).ConfigureAwait(false);
    }

    public Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default) =>
        maintenance.GetStatusAsync(QueryCacheMaintenance.BackfillJob, cancellationToken);

    public Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default) =>
        maintenance.GetStatusAsync(QueryCacheMaintenance.CleanupJob, cancellationToken);
}
