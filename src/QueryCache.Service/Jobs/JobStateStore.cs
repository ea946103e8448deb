using Dapper;
using Npgsql;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>Reads and writes the jobs' rows of <see cref="QueryCacheSchema.JobState"/>: one statement each way.</summary>
internal sealed class JobStateStore(CacheDataSource database)
{
    /// <summary>The current or last run of <paramref name="job"/>, or null before its first.</summary>
    public async Task<QueryCacheJobStatus?> ReadAsync(MaintenanceJob job, CancellationToken cancellationToken)
    {
        using var connection = database.Primary.CreateConnection();
        return await ReadAsync(connection, job, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<QueryCacheJobStatus?> ReadAsync(NpgsqlConnection connection, MaintenanceJob job, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(CacheStatements.ReadJobState,
            new { Job = job.Name, job.LockKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row?.ToStatus();
    }

    /// <summary>Writes <paramref name="status"/> as the job's state (in <paramref name="transaction"/> when given).</summary>
    public static Task SaveAsync(NpgsqlConnection connection, QueryCacheJobStatus status, CancellationToken cancellationToken,
        NpgsqlTransaction? transaction = null) =>
        connection.ExecuteAsync(new CommandDefinition(CacheStatements.SaveJobState, new
        {
            status.Job,
            Status = ToDatabase(status.Status),
            status.TenantId,
            status.Since,
            status.Until,
            status.CursorAskedAt,
            status.CursorUserMessageId,
            status.Total,
            status.Processed,
            status.Added,
            status.AlreadyCached,
            status.Skipped,
            status.Failed,
            status.StartedAt,
            status.Error,
        }, transaction, cancellationToken: cancellationToken));

    private static string ToDatabase(JobRunStatus status) => status switch
    {
        JobRunStatus.Running => "running",
        JobRunStatus.Completed => "completed",
        JobRunStatus.Interrupted => "interrupted",
        _ => "failed",
    };

    private sealed record Row(string Job, string Status, string? TenantFilter, DateTime? SinceFilter, DateTime? UntilFilter,
        DateTime? CursorAskedAt, Guid? CursorUserMessageId, long? Total, long Processed, long Added, long AlreadyCached, long Skipped,
        long Failed, DateTime StartedAt, DateTime UpdatedAt, DateTime? FinishedAt, string? Error, bool Locked)
    {
        public QueryCacheJobStatus ToStatus()
        {
            var status = Enum.Parse<JobRunStatus>(Status, ignoreCase: true);
            return new QueryCacheJobStatus
            {
                Job = Job,
                // A running row whose lock nobody holds belongs to a run that died.
                Status = status == JobRunStatus.Running && !Locked ? JobRunStatus.Interrupted : status,
                TenantId = TenantFilter,
                Since = DatabaseTime.ToOffset(SinceFilter),
                Until = DatabaseTime.ToOffset(UntilFilter),
                CursorAskedAt = DatabaseTime.ToOffset(CursorAskedAt),
                CursorUserMessageId = CursorUserMessageId,
                Total = Total,
                Processed = Processed,
                Added = Added,
                AlreadyCached = AlreadyCached,
                Skipped = Skipped,
                Failed = Failed,
                StartedAt = DatabaseTime.ToOffset(StartedAt)!.Value,
                UpdatedAt = DatabaseTime.ToOffset(UpdatedAt)!.Value,
                FinishedAt = DatabaseTime.ToOffset(FinishedAt),
                Error = Error,
            };
        }
    }
}
