namespace QueryCache.Jobs;

/// <summary>A maintenance job: its name in the job-state table and the advisory lock that keeps its runs apart.</summary>
/// <param name="Name">The key of its row in <see cref="QueryCacheSchema.JobState"/>.</param>
/// <param name="LockKey">Its PostgreSQL advisory lock ("QC" and the job's number): one run at a time per database.</param>
internal sealed record MaintenanceJob(string Name, long LockKey)
{
    public static readonly MaintenanceJob Backfill = new("backfill", 0x5143_0001);
    public static readonly MaintenanceJob Cleanup = new("cleanup", 0x5143_0002);
}
