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
    private readonly ConcurrentDictionary<(string TenantId, long EntryId), int> _pending = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ITimer? _timer;
    private readonly BackgroundDrain _writer;

    public HitRecorder(CacheDataSource database, FailOpenExecutor executor, IOptions<QueryCacheOptions> options, TimeProvider timeProvider)
    {
        _database = database;
        _executor = executor;
        _mode = options.Value.HitRecording;
        _writer = new BackgroundDrain(async () =>
        {
            await FlushAsync().ConfigureAwait(false);
            return !_pending.IsEmpty;
        });
        if (_mode == HitRecordingMode.Batched)
        {
            var interval = options.Value.HitFlushInterval;
            _timer = timeProvider.CreateTimer(_ => _ = FlushAsync(), null, interval, interval);
        }
    }

    /// <summary>Notes that <paramref name="entryId"/> of <paramref name="tenantId"/> answered a lookup.</summary>
    public void Record(string tenantId, long entryId)
    {
        if (_mode == HitRecordingMode.None)
        {
            return;
        }

        _pending.AddOrUpdate((tenantId, entryId), 1, static (_, count) => count + 1);
        if (_mode == HitRecordingMode.Immediate)
        {
            _writer.Signal();
        }
    }

    /// <summary>
    /// Writes the counts gathered so far, after any write already under way. A failed write drops them: hit counts are
    /// statistics, not worth failing or growing for.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pending.IsEmpty)
            {
                return;
            }

            var keys = _pending.Keys.OrderBy(k => k.TenantId, StringComparer.Ordinal).ThenBy(k => k.EntryId).ToArray();
            var (tenants, ids, hits) = (new string[keys.Length], new long[keys.Length], new int[keys.Length]);
            for (var i = 0; i < keys.Length; i++)
            {
                (tenants[i], ids[i]) = keys[i];
                _pending.TryRemove(keys[i], out hits[i]);
            }

            await _executor.ExecuteAsync(CacheOperation.Hits, "(all)", async ct =>
            {
                using var connection = _database.Primary.CreateConnection();
                return await connection.ExecuteAsync(new CommandDefinition(CacheStatements.RecordHits,
                    new { Tenants = tenants, Ids = ids, Hits = hits, _database.SynchronousCommit }, cancellationToken: ct)).ConfigureAwait(false);
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

        await _writer.WhenIdleAsync().ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        _writing.Dispose();
    }
}
