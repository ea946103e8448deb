using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>
/// Records that entries answered lookups, per <see cref="QueryCacheOptions.HitRecording"/>. Hits are counted in memory and
/// written in one statement for all entries pending: at once by a background writer (<see cref="HitRecordingMode.Immediate"/>),
/// or every <see cref="QueryCacheOptions.HitFlushInterval"/> (<see cref="HitRecordingMode.Batched"/>). Never on the
/// lookup's own path, and whatever is pending is written on dispose.
/// </summary>
internal sealed class HitRecorder : IAsyncDisposable
{
    private readonly CacheDataSource _database;
    private readonly FailOpenExecutor _executor;
    private readonly HitRecordingMode _mode;
    private readonly ConcurrentDictionary<long, int> _pending = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ITimer? _timer;
    private Task _drain = Task.CompletedTask;
    private int _draining;

    public HitRecorder(CacheDataSource database, FailOpenExecutor executor, IOptions<QueryCacheOptions> options, TimeProvider timeProvider)
    {
        _database = database;
        _executor = executor;
        _mode = options.Value.HitRecording;
        if (_mode == HitRecordingMode.Batched)
        {
            var interval = options.Value.HitFlushInterval;
            _timer = timeProvider.CreateTimer(_ => _ = FlushAsync(), null, interval, interval);
        }
    }

    /// <summary>Notes that <paramref name="entryId"/> answered a lookup.</summary>
    public void Record(long entryId)
    {
        if (_mode == HitRecordingMode.None)
        {
            return;
        }

        _pending.AddOrUpdate(entryId, 1, static (_, count) => count + 1);
        if (_mode == HitRecordingMode.Immediate && Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            _drain = Task.Run(DrainAsync);
        }
    }

    /// <summary>Writes the counts gathered so far. A failed write drops them: hit counts are statistics, not worth failing or growing for.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var ids = _pending.Keys.Order().ToArray();
            var hits = new int[ids.Length];
            for (var i = 0; i < ids.Length; i++)
            {
                _pending.TryRemove(ids[i], out hits[i]);
            }

            await _executor.ExecuteAsync(CacheOperation.Hits, "(all)", async ct =>
            {
                using var connection = _database.Primary.CreateConnection();
                return await connection.ExecuteAsync(new CommandDefinition(CacheStatements.RecordHits, new { Ids = ids, Hits = hits },
                    cancellationToken: ct)).ConfigureAwait(false);
            }, 0, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Stops the timer, lets the writer finish, and writes what is left.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        await _drain.ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        _writing.Dispose();
    }

    /// <summary>Writes until nothing is pending; hits that arrive meanwhile go into the next statement.</summary>
    private async Task DrainAsync()
    {
        try
        {
            do
            {
                await FlushAsync().ConfigureAwait(false);
            }
            while (!_pending.IsEmpty);
        }
        finally
        {
            Volatile.Write(ref _draining, 0);
            // A hit recorded between the last check and the reset above found the writer busy: start it again.
            if (!_pending.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            {
                _drain = Task.Run(DrainAsync);
            }
        }
    }
}
