using Dapper;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace QueryCache.Internal;

/// <summary>
/// The optional in-process tier (<see cref="QueryCacheOptions.LocalTierSize"/>): exact-match hits and effective settings
/// in a size-bounded <see cref="MemoryCache"/>, each for at most <see cref="QueryCacheOptions.LocalTierTimeToLive"/>.
/// It is only used while a connection to the primary LISTENs on <see cref="QueryCacheSchema.InvalidationChannel"/>: a
/// notification drops the tenant's entries (or all), and a lost connection empties the tier until it listens again.
/// </summary>
internal sealed class LocalTier : IAsyncDisposable
{
    /// <summary>How often an idle notification connection is checked, and how long the check may take.</summary>
    internal static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    /// <summary>The notification payload (and <see cref="Invalidate"/> argument) that stands for every tenant.</summary>
    internal const string AllTenants = "*";

    private readonly CacheDataSource _database;
    private readonly QueryCacheMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeToLive;
    private readonly MemoryCache? _cache;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _listener = Task.CompletedTask;
    private long _generation;
    private volatile bool _listening;

    public LocalTier(CacheDataSource database, QueryCacheMetrics metrics, IOptions<QueryCacheOptions> options, ILogger<LocalTier> logger)
    {
        _database = database;
        _metrics = metrics;
        _logger = logger;
        _timeToLive = options.Value.LocalTierTimeToLive;
        if (options.Value.LocalTierSize > 0)
        {
            _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.LocalTierSize });
            _listener = Task.Run(() => ListenAsync(_stopping.Token));
        }
    }

    /// <summary>Entries held now (for tests and diagnostics).</summary>
    public int Count => _cache?.Count ?? 0;

    /// <summary>Whether the tier serves: it is on and its notification connection listens.</summary>
    public bool Serving => _cache is not null && _listening;

    /// <summary>
    /// Taken before a database read whose result may be added: an invalidation that arrives meanwhile changes it, and
    /// the read's (possibly stale) result is then not added.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    public bool TryGetHit(CacheScope scope, byte[] questionHash, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CacheHit? hit)
    {
        hit = null;
        return Serving && _cache!.TryGetValue(HitKey.Of(scope, questionHash), out hit);
    }

    public void AddHit(CacheScope scope, byte[] questionHash, CacheHit hit, DateTimeOffset? expiresAt, long generation)
    {
        // Checked here too, so that a tier that is off builds no key on the lookup's path.
        if (Serving)
        {
            Add(HitKey.Of(scope, questionHash), hit, expiresAt, generation);
        }
    }

    public bool TryGetConfig(string? tenantId, out CacheConfig? config)
    {
        config = null;
        return Serving && _cache!.TryGetValue(new ConfigKey(tenantId), out config);
    }

    public void AddConfig(string? tenantId, CacheConfig config, long generation) => Add(new ConfigKey(tenantId), config, null, generation);

    private void Add(object key, object value, DateTimeOffset? expiresAt, long generation)
    {
        if (!Serving || Generation != generation)
        {
            return;
        }

        var expiry = DateTimeOffset.UtcNow + _timeToLive;
        var cache = _cache!;
        cache.Set(key, value, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = expiresAt < expiry ? expiresAt : expiry });
        if (Generation != generation)
        {
            // An invalidation landed while this was being added; it may have missed the new entry.
            cache.Remove(key);
        }
    }

    /// <summary>Drops what <paramref name="tenantId"/> (or <c>*</c>: everyone) had in the tier.</summary>
    internal void Invalidate(string tenantId, string reason)
    {
        Interlocked.Increment(ref _generation);
        if (_cache is null)
        {
            return;
        }

        if (tenantId == AllTenants)
        {
            _cache.Clear();
        }
        else
        {
            foreach (var key in _cache.Keys)
            {
                if (key is HitKey { TenantId: var hitTenant } && hitTenant == tenantId || key is ConfigKey { TenantId: var configTenant } && configTenant == tenantId)
                {
                    _cache.Remove(key);
                }
            }
        }

        _metrics.LocalTierEvicted(reason);
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await _database.Primary.OpenConnectionAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, e) => Invalidate(e.Payload, "invalidated");
                await ExecuteAsync(connection, CacheStatements.ListenForInvalidations, stopping)
                    .ConfigureAwait(false);
                _listening = true;
                Log.LocalTierListening(_logger);
                while (true)
                {
                    if (!await connection.WaitAsync(Heartbeat, stopping).ConfigureAwait(false))
                    {
                        await ExecuteAsync(connection, CacheStatements.Heartbeat, stopping).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _listening = false;
                Invalidate(AllTenants, "disconnected");
                Log.LocalTierDisconnected(_logger, ex);
                await Task.Delay(Heartbeat, stopping).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            finally
            {
                _listening = false;
                if (connection is not null)
                {
                    await StopListeningAsync(connection).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(sql, commandTimeout: (int)Heartbeat.TotalSeconds + 1, cancellationToken: cancellationToken))
            .ConfigureAwait(false);
    }

    /// <summary>A pooled connection must not go back still listening under the tier's name.</summary>
    private static async Task StopListeningAsync(NpgsqlConnection connection)
    {
        try
        {
            if (connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, "UNLISTEN *; RESET application_name", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (FailOpenExecutor.IsDatabaseFailure(ex) || ex is InvalidOperationException)
        {
            // A broken connection is not returned to the pool.
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.ConfigureAwait(false);
        _cache?.Dispose();
        _stopping.Dispose();
    }

    private sealed record HitKey(string TenantId, string? UserId, string QuestionHash)
    {
        public static HitKey Of(CacheScope scope, byte[] questionHash) => new(scope.TenantId, scope.UserId, Convert.ToHexString(questionHash));
    }

    private sealed record ConfigKey(string? TenantId);
}
