using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Options;

namespace QueryCache.Internal;

/// <summary>
/// Records that entries answered lookups, per <see cref="QueryCacheOptions.HitRecording"/>: in the lookup's own round
/// trip (<see cref="HitRecordingMode.Immediate"/>: the lookup function does it), not at all, or counted in memory and
/// written every <see cref="QueryCacheOptions.HitFlushInterval"/> in one statement (<see cref="HitRecordingMode.Batched"/>).
/// </summary>
internal sealed class HitRecorder : IAsyncDisposable
{
    private readonly CacheDataSource _database;
    private readonly FailOpenExecutor _executor;
    private readonly HitRecordingMode _mode;
    private readonly ConcurrentDictionary<long, int> _pending = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly ITimer? _timer;

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

    /// <summary>Whether the lookup statement records the hit itself.</summary>
    public bool InLookup => _mode == HitRecordingMode.Immediate;

    /// <summary>Notes a hit served by a lookup that did not record it itself.</summary>
    public void Count(long entryId)
    {
        if (_mode == HitRecordingMode.Batched)
        {
            _pending.AddOrUpdate(entryId, 1, static (_, count) => count + 1);
        }
    }

    /// <summary>Writes the counts gathered so far. A failed write drops them: hit counts are statistics, not worth failing or growing for.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
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
            _flushing.Release();
        }
    }

    /// <summary>Stops the timer and writes what is left.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
            await FlushAsync().ConfigureAwait(false);
        }

        _flushing.Dispose();
    }
}
