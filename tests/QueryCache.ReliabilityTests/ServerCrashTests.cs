using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>Fail-open against real faults: the server crashed, backends killed, a pool exhausted; the host never restarts.</summary>
[Collection(FaultServerTests.Name)]
public sealed class ServerCrashTests(FaultServer server)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);
    private readonly Random _rng = new(31);

    private ServiceProvider Host(string? connectionString = null, int? maxPool = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString ?? server.ConnectionString) { Timeout = 2 };
        if (maxPool is { } max)
        {
            builder.MaxPoolSize = max;
        }

        return DatabaseFixture.BuildServices(builder.ConnectionString, o =>
        {
            o.LookupTimeout = Timeout;
            o.StoreTimeout = Timeout;
        });
    }

    private CacheEntry Entry(float[] vector, string tenant = "t") =>
        new() { Scope = new CacheScope(tenant), QueryText = "q " + _rng.Next(), Answer = "a", Embedding = vector };

    private static async Task<long> CountAsync(string cs)
    {
        // Unpooled: the test's own pooled connections die with the server too.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings");
    }

    [Fact]
    public async Task A_crashed_server_turns_lookups_into_quick_misses_and_stores_into_drops_and_the_same_host_recovers()
    {
        await using var host = Host();
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        Assert.True(await cache.AddToCacheAsync(Entry(vector)) > 0);
        Assert.NotNull(await cache.CheckCacheAsync(vector, new CacheScope("t")));
        var before = await CountAsync(server.ConnectionString);

        // Lookups and stores keep coming while the server dies under them.
        using var stop = new CancellationTokenSource();
        var worst = TimeSpan.Zero;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                await cache.CheckCacheAsync(vector, new CacheScope("t"));
                await cache.AddToCacheAsync(Entry(Vectors.Random(new Random())));
                if (watch.Elapsed > worst)
                {
                    worst = watch.Elapsed;
                }
            }
        });
        await Task.Delay(300);
        await server.KillAsync();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            Assert.Null(await cache.CheckCacheAsync(vector, new CacheScope("t")));
            Assert.True(watch.Elapsed < Timeout + Margin, $"a lookup took {watch.Elapsed} with the server down");
            Assert.Equal(0, await cache.AddToCacheAsync(Entry(Vectors.Random(_rng))));
        }

        await stop.CancelAsync();
        await load;
        Assert.True(worst < 2 * (Timeout + Margin), $"a lookup plus a store took {worst} around the crash");

        await server.StartAsync();
        Assert.NotNull(await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, new CacheScope("t"))));
        Assert.True(await cache.AddToCacheAsync(Entry(Vectors.Random(_rng))) > 0);
        Assert.True(await CountAsync(server.ConnectionString) > before);
    }

    [Fact]
    public async Task Killed_backends_cost_a_miss_or_two_and_the_pool_heals()
    {
        await using var host = Host();
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(vector, "killed"));
        for (var i = 0; i < 4; i++)
        {
            Assert.NotNull(await cache.CheckCacheAsync(vector, new CacheScope("killed")));
        }

        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString))
        {
            var killed = await admin.ExecuteScalarAsync<long>(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'QueryCache' OR (datname = 'faults' AND pid <> pg_backend_pid())");
            Assert.True(killed > 0);
        }

        var watch = Stopwatch.StartNew();
        await cache.CheckCacheAsync(vector, new CacheScope("killed"));
        Assert.True(watch.Elapsed < Timeout + Margin);
        Assert.NotNull(await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, new CacheScope("killed"))));
    }

    [Fact]
    public async Task An_exhausted_pool_makes_lookups_miss_within_the_timeout()
    {
        await using var host = Host(maxPool: 2);
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(vector, "pool"));

        await using var locker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false }.ConnectionString);
        await locker.OpenAsync();
        await using (var transaction = await locker.BeginTransactionAsync())
        {
            await locker.ExecuteAsync("LOCK TABLE askwealth.query_cache_embeddings IN ACCESS EXCLUSIVE MODE", transaction: transaction);
            var watch = Stopwatch.StartNew();
            var lookups = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cache.CheckCacheAsync(vector, new CacheScope("pool"))));
            Assert.All(lookups, Assert.Null);
            Assert.True(watch.Elapsed < Timeout + Margin, $"8 lookups on a 2-connection pool took {watch.Elapsed}");
            await transaction.RollbackAsync();
        }

        Assert.NotNull(await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, new CacheScope("pool"))));
    }
}
