using System.Globalization;
using Microsoft.Extensions.Logging;
using Quartz;

namespace QueryCache.Jobs;

/// <summary>The backfill as a Quartz job: never two at once, resumes from its checkpoint, stops on interrupt.</summary>
[DisallowConcurrentExecution]
internal sealed class QueryCacheBackfillJob(IQueryCacheService cache, ILogger<QueryCacheBackfillJob> logger) : IJob
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
        return QuartzExecution.RunAsync(context, logger, "backfill", ct => cache.PopulateFromExistingAsync(request, progress: null, ct), cancellationToken);
    }

    /// <summary>Job data carries instants as round-trip ("O") strings, so the clustered store can keep them as text.</summary>
    internal static string Format(DateTimeOffset instant) => instant.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Instant(JobDataMap data, string key) =>
        data.TryGetString(key, out var text) && text is not null
            ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
            : null;
}

/// <summary>The cleanup as a Quartz job: expired entries, then the size caps, then the learned decisions' refits; never two at once.</summary>
[DisallowConcurrentExecution]
internal sealed class QueryCacheCleanupJob(IQueryCacheService cache, ILogger<QueryCacheCleanupJob> logger) : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default) =>
        QuartzExecution.RunAsync(context, logger, "cleanup", cache.CleanupAsync, cancellationToken);
}

/// <summary>Runs a maintenance job under Quartz's rules: an interrupt ends it quietly, a busy job is skipped, a failure becomes <see cref="JobExecutionException"/>.</summary>
internal static partial class QuartzExecution
{
    public static async ValueTask RunAsync(IJobExecutionContext context, ILogger logger, string job,
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
            JobBusy(logger, job);
        }
        catch (Exception ex)
        {
            throw new JobExecutionException($"The query cache {job} failed: {ex.Message}", ex);
        }
    }

    [LoggerMessage(1500, LogLevel.Information, "The query cache {Job} is already running on another instance; this firing is skipped.")]
    private static partial void JobBusy(ILogger logger, string job);
}

/// <summary>Triggers the jobs through the host's scheduler and reads their state through the cache.</summary>
internal sealed class QueryCacheJobTrigger(ISchedulerFactory schedulerFactory, IQueryCacheService cache) : IQueryCacheJobs
{
    public async Task TriggerBackfillAsync(BackfillRequest? request = null, CancellationToken cancellationToken = default)
    {
        var data = new JobDataMap();
        if (request?.TenantId is { } tenant)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(tenant, "request.TenantId");
            data.Add(QueryCacheBackfillJob.TenantKey, tenant);
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

    public Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default) => cache.GetBackfillStatusAsync(cancellationToken);

    public Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default) => cache.GetCleanupStatusAsync(cancellationToken);
}

/// <summary>The cleanup schedule must be a Quartz cron expression (or empty: on demand only).</summary>
internal sealed class CleanupScheduleValidator : Microsoft.Extensions.Options.IValidateOptions<QueryCacheJobOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, QueryCacheJobOptions options) =>
        !string.IsNullOrWhiteSpace(options.CleanupSchedule) && !CronExpression.TryParse(options.CleanupSchedule, default, out _)
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(
                $"CleanupSchedule '{options.CleanupSchedule}' is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week, for example \"0 0/15 * * * ?\"); leave it empty for on-demand cleanup only.")
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
