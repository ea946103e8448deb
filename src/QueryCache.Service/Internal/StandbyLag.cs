using Dapper;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>
/// How far the standby of <see cref="QueryCacheOptions.ReadConnectionString"/> is behind the primary, measured every
/// second: each check samples the primary's WAL position with the time, then reads what the standby has replayed; the
/// lag is the age of the newest sample the standby has reached (0 when it has the current one). Unlike
/// <c>now() - pg_last_xact_replay_timestamp()</c> it reads 0 for an idle pair and is not fooled by the first commit after
/// a quiet spell. Unknown (null) while either server cannot be asked; a standby that stops replaying ages with its samples.
/// </summary>
internal sealed class StandbyLag : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly CacheDataSource _database;
    private readonly TimeProvider _time;
    private readonly TimeSpan? _max;
    private readonly TimeSpan _window;
    private readonly Queue<(long Timestamp, long Position)> _samples = new();
    private readonly ITimer? _timer;
    private int _checking;

    // Taken as caught up until the first check (due at once) says otherwise: a dead standby is the breaker's business.
    private long _lagTicks;

    public StandbyLag(CacheDataSource database, IOptions<QueryCacheOptions> options, TimeProvider timeProvider)
    {
        _database = database;
        _time = timeProvider;
        _max = options.Value.MaxStandbyLag;
        _window = (_max ?? TimeSpan.FromMinutes(1)) + (5 * Interval);
        if (database.Standby is not null)
        {
            _timer = timeProvider.CreateTimer(_ => _ = CheckAsync(), null, TimeSpan.Zero, Interval);
        }
    }

    /// <summary>The standby's lag at the last check (to the second), or null when it could not be measured.</summary>
    public TimeSpan? Current => Interlocked.Read(ref _lagTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>Whether lookups should leave the standby alone: further behind than <see cref="QueryCacheOptions.MaxStandbyLag"/>, or unmeasured.</summary>
    public bool TooFar => _max is { } max && (Current is not { } lag || lag > max);

    private async Task CheckAsync()
    {
        if (Interlocked.Exchange(ref _checking, 1) == 1)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(Interval);
            var now = _time.GetTimestamp();
            var primary = await PositionAsync(_database.Primary, CacheStatements.PrimaryWalPosition, timeout.Token).ConfigureAwait(false) ?? 0;
            var replayed = await PositionAsync(_database.Standby!, CacheStatements.StandbyReplayPosition, timeout.Token).ConfigureAwait(false);
            _samples.Enqueue((now, primary));
            while (_samples.Count > 1 && _time.GetElapsedTime(_samples.Peek().Timestamp) > _window)
            {
                _samples.Dequeue();
            }

            // Not in recovery (a multi-host string that found no standby reads the primary itself) or caught up: no lag.
            var reached = replayed is not { } position || position >= primary
                ? now
                : _samples.Where(s => s.Position <= position).Select(s => s.Timestamp).DefaultIfEmpty(_samples.Peek().Timestamp).Max();
            Interlocked.Exchange(ref _lagTicks, _time.GetElapsedTime(reached, now).Ticks);
        }
        catch (Exception ex) when (FailOpenExecutor.IsDatabaseFailure(ex) || ex is OperationCanceledException)
        {
            Interlocked.Exchange(ref _lagTicks, -1);
        }
        finally
        {
            Volatile.Write(ref _checking, 0);
        }
    }

    private static async Task<long?> PositionAsync(Npgsql.NpgsqlDataSource source, string sql, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(sql, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => _timer?.DisposeAsync() ?? ValueTask.CompletedTask;
}
