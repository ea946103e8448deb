using Dapper;

namespace QueryCache.Internal;

/// <summary>
/// Inserts stored entries into the HNSW index behind the stores (<see cref="QueryCacheOptions.BackgroundIndexing"/>):
/// signalled after each store, it runs index passes of <see cref="BatchSize"/> entries until none is left. Instances
/// share the work (a pass skips rows another holds); a failed pass leaves its entries for the next one or the cleanup
/// job, and lookups compare unindexed entries exactly meanwhile.
/// </summary>
internal sealed class PendingIndexer : IAsyncDisposable
{
    /// <summary>Entries per pass: each pass is one short transaction, so row locks stay brief.</summary>
    public const int BatchSize = 16;

    private readonly CacheDataSource _database;
    private readonly FailOpenExecutor _executor;
    private readonly BackgroundDrain _drain;
    private readonly CancellationTokenSource _stopping = new();

    public PendingIndexer(CacheDataSource database, FailOpenExecutor executor)
    {
        _database = database;
        _executor = executor;
        _drain = new BackgroundDrain(async () =>
        {
            try
            {
                return await IndexBatchAsync(_stopping.Token).ConfigureAwait(false) == BatchSize;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        });
    }

    /// <summary>Starts index passes in the background, unless they are running.</summary>
    public void Signal() => _drain.Signal();

    /// <summary>One pass: how many entries it indexed (0 when it failed).</summary>
    public Task<int> IndexBatchAsync(CancellationToken cancellationToken) =>
        _executor.ExecuteAsync(CacheOperation.Index, "(all)", async ct =>
        {
            using var connection = _database.Primary.CreateConnection();
            return await connection.ExecuteScalarAsync<int>(new CommandDefinition(CacheStatements.IndexPending,
                new { BatchSize, _database.SynchronousCommit }, cancellationToken: ct)).ConfigureAwait(false);
        }, 0, cancellationToken);

    /// <summary>Stops after the current pass; what is left stays for the next instance, pass or cleanup.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _drain.WhenIdleAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
