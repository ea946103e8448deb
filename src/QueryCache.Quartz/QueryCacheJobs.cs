using Quartz;

namespace QueryCache;

/// <summary>Triggers the cache's Quartz jobs now and reads their last run. Registered by <c>AddQueryCacheJobs</c>.</summary>
public interface IQueryCacheJobs
{
    /// <summary>Fires the backfill job (on whichever instance's scheduler picks it up); returns at once.</summary>
    /// <param name="request">Which pairs to backfill; null for all.</param>
    /// <param name="cancellationToken">Cancels the trigger, not the job.</param>
    Task TriggerBackfillAsync(BackfillRequest? request = null, CancellationToken cancellationToken = default);

    /// <summary>Fires the cleanup job; returns at once.</summary>
    /// <param name="cancellationToken">Cancels the trigger, not the job.</param>
    Task TriggerCleanupAsync(CancellationToken cancellationToken = default);

    /// <summary>The current or last backfill, null before the first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<QueryCacheJobStatus?> GetBackfillStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The current or last cleanup, null before the first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    Task<QueryCacheJobStatus?> GetCleanupStatusAsync(CancellationToken cancellationToken = default);
}

/// <summary>The Quartz keys of the cache's jobs and of the cleanup's schedule.</summary>
public static class QueryCacheJobKeys
{
    /// <summary>The backfill job (durable, fired on demand).</summary>
    public static readonly JobKey Backfill = new("querycache-backfill", "querycache");

    /// <summary>The cleanup job.</summary>
    public static readonly JobKey Cleanup = new("querycache-cleanup", "querycache");

    /// <summary>The cleanup's cron trigger (<see cref="QueryCacheJobOptions.CleanupSchedule"/>).</summary>
    public static readonly TriggerKey CleanupSchedule = new("querycache-cleanup-schedule", "querycache");
}
