using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>Lookups on a real streaming standby, everything else on the primary, and a standby that goes away.</summary>
[Collection(ReplicaServerTests.Name)]
public sealed class ReplicaTests(ReplicaServers servers) : IAsyncLifetime
{
    private static readonly CacheScope Scope = new("t");
    private readonly Random _rng = new(17);

    public Task InitializeAsync() => servers.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ServiceProvider Host(Action<QueryCacheOptions>? configure = null) =>
        DatabaseFixture.BuildServices(servers.PrimaryConnectionString, o =>
        {
            o.ReadConnectionString = servers.StandbyConnectionString;
            configure?.Invoke(o);
        }, new CountingEmbeddingGenerator(), s => s.AddHealthChecks().AddQueryCache());

    private static async Task<HealthReport> HealthAsync(ServiceProvider host) => await host.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    private async Task<T?> OnStandbyAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(servers.StandbyConnectionString);
        return await connection.ExecuteScalarAsync<T>(sql);
    }

    [Fact]
    public async Task A_store_on_the_primary_becomes_a_hit_through_the_standby_and_the_hit_is_counted_on_the_primary()
    {
        await using var host = Host();
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        await OnStandbyAsync<object>("SELECT pg_wal_replay_pause()");
        long id;
        try
        {
            id = await cache.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.45 %", Embedding = vector });
            Assert.True(id > 0);
            // The primary has it; the standby, which lookups read, has not replayed it yet.
            Assert.Null(await cache.CheckCacheAsync(vector, Scope));
        }
        finally
        {
            await OnStandbyAsync<object>("SELECT pg_wal_replay_resume()");
        }

        var hit = await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, Scope));
        Assert.Equal(id, hit?.EntryId);
        await cache.FlushHitsAsync();
        await using var primary = new NpgsqlConnection(servers.PrimaryConnectionString);
        Assert.True(await primary.ExecuteScalarAsync<long>("SELECT hit_count FROM askwealth.query_cache_hits WHERE entry_id = @id", new { id }) >= 1);
    }

    [Fact]
    public async Task A_standby_further_behind_than_the_limit_is_left_alone_and_the_primary_answers()
    {
        await using var host = Host(o => o.MaxStandbyLag = TimeSpan.FromMilliseconds(500));
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        await OnStandbyAsync<object>("SELECT pg_wal_replay_pause()");
        try
        {
            await cache.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.45 %", Embedding = vector });
            // The paused standby never has it; once its lag passes the limit, lookups read the primary, which does.
            Assert.Equal("0.45 %", (await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, Scope)))?.Answer);
        }
        finally
        {
            await OnStandbyAsync<object>("SELECT pg_wal_replay_resume()");
        }
    }

    [Fact]
    public async Task Lookups_read_the_standby_and_nothing_writes_there()
    {
        var logStart = new FileInfo(servers.StandbyLog).Length;

        // Fail-closed, so that a write sent to the standby would surface here as well as in its log.
        await using var host = Host(o =>
        {
            o.FailOpen = false;
            o.HitRecording = HitRecordingMode.Batched;
        });
        var cache = host.GetRequiredService<QueryCacheService>();
        using var fallbacks = new MetricCollector<long>(host.GetRequiredService<IMeterFactory>(), "QueryCache", "querycache.standby.fallbacks");
        var vectors = Enumerable.Range(0, 5).Select(_ => Vectors.Random(_rng)).ToList();
        foreach (var (vector, i) in vectors.Select((v, i) => (v, i)))
        {
            await cache.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = $"question {i}", Answer = $"answer {i}", Embedding = vector });
        }

        foreach (var vector in vectors)
        {
            Assert.NotNull(await Eventually.ValueAsync(() => cache.CheckCacheAsync(Vectors.AtSimilarity(vector, 0.97, _rng), Scope)));
        }

        Assert.NotNull(await Eventually.ValueAsync(async () => (await cache.LookupAsync(new CacheQuery { Scope = Scope, Question = "question 1" })).Hit));
        Assert.False((await cache.GetOrAddAsync("a new question", Scope, _ => Task.FromResult("computed"))).FromCache);
        await cache.FlushHitsAsync();
        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 }, "t");
        Assert.Equal(0.9, (await cache.GetConfigAsync("t")).SimilarityThreshold);
        Assert.True((await cache.GetCacheStatsAsync("t")).TotalCacheHits >= 6);
        await cache.CleanupAsync();
        Assert.Equal(6, await cache.InvalidateTenantAsync("t"));

        // Every lookup was answered by the standby (none fell back to the primary), and the standby's log has no error.
        Assert.Empty(fallbacks.GetMeasurementSnapshot());
        await using var log = new FileStream(servers.StandbyLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        log.Seek(logStart, SeekOrigin.Begin);
        var written = await new StreamReader(log).ReadToEndAsync();
        Assert.DoesNotContain("read-only transaction", written, StringComparison.Ordinal);
        Assert.DoesNotContain("ERROR", written, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookups_keep_answering_within_the_timeout_when_the_standby_stops_mid_run()
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        await using var host = Host(o => o.LookupTimeout = timeout);
        var cache = host.GetRequiredService<QueryCacheService>();
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.45 %", Embedding = vector });
        Assert.NotNull(await Eventually.ValueAsync(() => cache.CheckCacheAsync(vector, Scope)));
        var health = await HealthAsync(host);
        Assert.True(health.Status == HealthStatus.Healthy, health.Entries.Single().Value.Description);
        Assert.Contains("read replica is", health.Entries.Single().Value.Description, StringComparison.Ordinal);

        var worst = TimeSpan.Zero;
        var (answered, missed) = (0, 0);
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                var hit = await cache.CheckCacheAsync(vector, Scope);
                worst = watch.Elapsed > worst ? watch.Elapsed : worst;
                _ = hit is null ? missed++ : answered++;
            }
        });
        try
        {
            await Task.Delay(300);
            await servers.StopStandbyAsync();
            await Task.Delay(2000);
            await stop.CancelAsync();
            await load;
            Assert.Equal(HealthStatus.Degraded, (await HealthAsync(host)).Status);
        }
        finally
        {
            await servers.StartStandbyAsync();
        }

        // The primary answered in the standby's place: every lookup a hit, none slower than the lookup timeout.
        Assert.Equal(0, missed);
        Assert.True(answered > 10, $"only {answered} lookups ran");
        Assert.True(worst < timeout + TimeSpan.FromMilliseconds(500), $"a lookup took {worst} while the standby stopped");
    }
}
