using Dapper;
using Npgsql;
using QueryCache.Internal;

namespace QueryCache.Jobs;

/// <summary>A session-level PostgreSQL advisory lock held on one connection: released explicitly, or by the server when the connection dies.</summary>
internal static class AdvisoryLock
{
    /// <summary>Takes <paramref name="job"/>'s lock or throws <see cref="QueryCacheJobBusyException"/> at once.</summary>
    public static async Task AcquireAsync(NpgsqlConnection connection, MaintenanceJob job, CancellationToken cancellationToken)
    {
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.TryLock, new { Key = job.LockKey },
            cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            throw new QueryCacheJobBusyException(job.Name);
        }
    }

    public static async Task ReleaseAsync(NpgsqlConnection connection, MaintenanceJob job)
    {
        if (connection.FullState != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await connection.ExecuteAsync(CacheStatements.Unlock, new { Key = job.LockKey }).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The connection died: the server released its locks with it.
        }
    }
}
