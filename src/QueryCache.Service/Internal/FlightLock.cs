using System.Globalization;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace QueryCache.Internal;

/// <summary>
/// Single flight across instances: a session-level PostgreSQL advisory lock on the primary, keyed by the scope, the
/// model and the normalized question. The first instance to miss takes it and runs the pipeline; the others wait for
/// it (at most <see cref="QueryCacheOptions.SingleFlightWait"/>), then find the stored answer. A lock that cannot be
/// had in time, or at all, is no reason to fail: the caller then runs the pipeline itself.
/// </summary>
internal sealed class FlightLock(CacheDataSource database, IOptions<QueryCacheOptions> options, ILogger<FlightLock> logger)
{
    // set_config(..., true) lasts for the batch's implicit transaction: the wait is bounded, the session keeps no setting.

    private readonly QueryCacheOptions _options = options.Value;

    /// <summary>
    /// Holds the lock of <paramref name="flight"/> once no other instance does, or gives up after
    /// <see cref="QueryCacheOptions.SingleFlightWait"/>; the lease is empty when the lock is off or was not had.
    /// </summary>
    public async Task<FlightLease> AcquireAsync(FlightKey flight, CancellationToken cancellationToken)
    {
        if (_options.SingleFlightWait <= TimeSpan.Zero)
        {
            return FlightLease.None;
        }

        var key = Key(flight, _options.EmbeddingModel);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await database.Primary.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await AdvisoryLock.AcquireAsync(connection, key, _options.SingleFlightWait, cancellationToken).ConfigureAwait(false);
            return new FlightLease(connection, key);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && FailOpenExecutor.IsDatabaseFailure(ex))
        {
            if (ex is not PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable })
            {
                Log.FlightLockFailed(logger, ex, flight.TenantId);
            }

            await DisposeAsync(connection).ConfigureAwait(false);
            return FlightLease.None;
        }
        catch
        {
            await DisposeAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The lock key: 64 bits of SHA-256 over the tenant, the user, the model, the normalized question and the threshold.</summary>
    internal static long Key(FlightKey flight, string model) => BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{flight.TenantId}\0{flight.UserId}\0{model}\0{flight.Question}\0{flight.Threshold:R}"))));

    private static ValueTask DisposeAsync(NpgsqlConnection? connection) => connection?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>A held lock (or none); disposing releases it and returns the connection.</summary>
    internal sealed class FlightLease(NpgsqlConnection? connection, long key) : IAsyncDisposable
    {
        public static readonly FlightLease None = new(null, 0);

        public async ValueTask DisposeAsync()
        {
            if (connection is null)
            {
                return;
            }

            try
            {
                await AdvisoryLock.ReleaseAsync(connection, key).ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
