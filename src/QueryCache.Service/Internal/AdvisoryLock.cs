using Dapper;
using Npgsql;

namespace QueryCache.Internal;

/// <summary>
/// Session-level PostgreSQL advisory locks, held on one connection: released explicitly, or by the server when the
/// connection dies. The one home of the cache's locks: a job runs once across instances, a flight runs its pipeline once.
/// </summary>
internal static class AdvisoryLock
{
    /// <summary>Takes lock <paramref name="key"/> if no other session holds it; false at once when one does.</summary>
    public static Task<bool> TryAcquireAsync(NpgsqlConnection connection, long key, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition(CacheStatements.TryLock, new { Key = key }, cancellationToken: cancellationToken));

    /// <summary>Waits for lock <paramref name="key"/> at most <paramref name="wait"/>; past it PostgreSQL raises lock_not_available.</summary>
    public static Task AcquireAsync(NpgsqlConnection connection, long key, TimeSpan wait, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(CacheStatements.Lock,
            new { Timeout = $"{(long)wait.TotalMilliseconds}ms", Key = key }, commandTimeout: 0, cancellationToken: cancellationToken));

    /// <summary>Releases lock <paramref name="key"/>; a connection that died has released it already.</summary>
    public static async Task ReleaseAsync(NpgsqlConnection connection, long key)
    {
        if (connection.FullState != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await connection.ExecuteAsync(CacheStatements.Unlock, new { Key = key }).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The connection died: the server released its locks with it.
        }
    }
}
