using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace QueryCache.Bench;

/// <summary>
/// The scaling-out figures, in one run on one table: lookups per second on the primary alone and with a streaming
/// standby taking the lookups, an exact hit from the in-process tier against one from the database, and how long an
/// invalidation on one instance takes to stop another from serving the entry.
/// </summary>
internal static class ScaleOutRun
{
    private const string Database = "querycache_bench_scaleout";

    public static async Task<Dictionary<string, object>> RunAsync(BenchSettings settings, string standbyServer, int entries, int clients)
    {
        var figures = new Dictionary<string, object> { ["entries"] = entries, ["clients"] = clients };
        var data = Data.Generate(entries, settings.Dimensions, settings.Queries);
        var primary = await BenchDatabase.CreateLoadedAsync(settings, Database, data, entries);

        var standby = new NpgsqlConnectionStringBuilder(standbyServer) { Database = Database }.ConnectionString;
        var replayed = Stopwatch.StartNew();
        while (await CountOnAsync(standby) < entries)
        {
            await Task.Delay(200);
        }

        figures["standby_caught_up_s"] = Math.Round(replayed.Elapsed.TotalSeconds, 1);
        foreach (var (mode, read) in new[] { ("primary_only", (string?)null), ("primary_plus_standby", standby) })
        {
            await using var provider = BenchDatabase.Services(settings, primary, o => o.ReadConnectionString = read);
            var cache = provider.GetRequiredService<QueryCacheService>();
            var queries = data.Queries;
            for (var i = 0; i < 100; i++)
            {
                await cache.CheckCacheAsync(queries[i % queries.Count].Vector, new CacheScope(data.Tenants[queries[i % queries.Count].Tenant]));
            }

            var (latencies, perSecond) = await Measure.ConcurrentAsync(clients, queries.Count * 2, () => Task.FromResult<(Func<int, Task>, IAsyncDisposable)>(
                (k => cache.CheckCacheAsync(queries[k % queries.Count].Vector, new CacheScope(data.Tenants[queries[k % queries.Count].Tenant])),
                 NoResources.Instance)));
            figures[$"{mode}_lookups_per_s"] = perSecond;
            figures[$"{mode}_lookup_p50_ms"] = Measure.Percentile(latencies, 50);
            figures[$"{mode}_lookup_p99_ms"] = Measure.Percentile(latencies, 99);
        }

        figures["standby_over_primary_throughput"] = Math.Round(
            (double)figures["primary_plus_standby_lookups_per_s"] / (double)figures["primary_only_lookups_per_s"], 2);
        await TierAsync(settings, primary, data, figures);
        if (!settings.Keep)
        {
            await BenchDatabase.DropAsync(settings, Database);
        }

        return figures;
    }

    /// <summary>Exact hits from the database and from memory; the reach of an invalidation from instance A to instance B.</summary>
    private static async Task TierAsync(BenchSettings settings, string primary, Data data, Dictionary<string, object> figures)
    {
        Action<QueryCacheOptions> tiered = o =>
        {
            o.LocalTierSize = 10_000;
            o.LocalTierTimeToLive = TimeSpan.FromMinutes(10);
        };
        await using var a = BenchDatabase.Services(settings, primary, tiered);
        await using var b = BenchDatabase.Services(settings, primary, tiered);
        var cacheA = a.GetRequiredService<QueryCacheService>();
        var cacheB = b.GetRequiredService<QueryCacheService>();
        // Each tier serves once it listens for invalidations, a few ms after the cache is built; the bench measures that tier.
        await Task.Delay(TimeSpan.FromSeconds(2));

        var large = new CacheScope(data.Tenants[Data.LargeTenant]);
        var questions = Enumerable.Range(0, data.TenantOf.Length).Where(i => data.TenantOf[i] == Data.LargeTenant).Take(300).ToList();
        var fromDatabase = new List<double>();
        var fromMemory = new List<double>();
        foreach (var i in questions)
        {
            var query = new CacheQuery { Scope = large, Question = $"question {i}" };
            fromDatabase.Add(await Measure.TimeAsync(() => cacheB.LookupAsync(query)));
            fromMemory.Add(await Measure.TimeAsync(() => cacheB.LookupAsync(query)));
        }

        figures["exact_hit_database_p50_ms"] = Measure.Percentile(fromDatabase, 50);
        figures["exact_hit_memory_p50_ms"] = Measure.Percentile(fromMemory, 50);

        var reach = new List<double>();
        var probe = new CacheScope("probe");
        for (var k = 0; k < 30; k++)
        {
            var query = new CacheQuery { Scope = probe, Question = $"probe {k}", Embedding = data.Embeddings[k] };
            await cacheA.AddToCacheAsync(new CacheEntry { Scope = probe, QueryText = query.Question, Answer = "a", Embedding = data.Embeddings[k] });
            await cacheB.LookupAsync(query);
            await cacheA.InvalidateTenantAsync(probe.TenantId);
            var watch = Stopwatch.StartNew();
            while ((await cacheB.LookupAsync(query)).Hit is not null)
            {
            }

            reach.Add(watch.Elapsed.TotalMilliseconds);
        }

        figures["invalidation_reach_p50_ms"] = Measure.Percentile(reach, 50);
        figures["invalidation_reach_max_ms"] = Measure.Percentile(reach, 100);
    }

    private static async Task<long> CountOnAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings");
        }
        catch (PostgresException)
        {
            return 0;
        }
    }
}

