using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Internal;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>
/// Many instances on one database: single flight across instances, and the in-process tier kept right by the
/// database's notifications. Each "instance" is a service provider with its own data source, as in another process.
/// </summary>
public sealed class ScaleOutTests(DatabaseFixture database) : DatabaseTest(database)
{
    /// <summary>The documented bound: an invalidation committed on one instance is not served by another after this.</summary>
    private static readonly TimeSpan InvalidationBound = TimeSpan.FromSeconds(1);

    private static readonly CacheScope Scope = new("t");

    private ServiceProvider Instance(Action<QueryCacheOptions>? configure = null) =>
        Database.BuildServices(configure, new CountingEmbeddingGenerator());

    private ServiceProvider TieredInstance() => Instance(o =>
    {
        o.LocalTierSize = 100;
        o.LocalTierTimeToLive = TimeSpan.FromMinutes(10);
    });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Identical_concurrent_misses_on_two_instances_run_the_pipeline_once(bool acrossInstances)
    {
        Action<QueryCacheOptions> configure = o => o.SingleFlightWait = acrossInstances ? TimeSpan.FromSeconds(10) : TimeSpan.Zero;
        await using var a = Instance(configure);
        await using var b = Instance(configure);
        var instances = new[] { a.GetRequiredService<QueryCacheService>(), b.GetRequiredService<QueryCacheService>() };
        var calls = 0;
        async Task<string> Pipeline(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(500, ct);
            return "the answer";
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => Task.Run(() => instances[i % 2].GetOrAddAsync(i % 3 == 0 ? "What are the fees?" : " what are the FEES?", Scope, Pipeline))));

        Assert.All(answers, answer => Assert.Equal("the answer", answer.Answer));
        // Without the lock each instance runs its own flight: the test would see 2.
        Assert.Equal(acrossInstances ? 1 : 2, calls);
    }

    [Fact]
    public async Task Identical_concurrent_chat_misses_on_two_instances_call_the_model_once()
    {
        var model = new CountingChatClient { Delay = TimeSpan.FromMilliseconds(500) };
        ServiceProvider ChatInstance() => Database.BuildServices(generator: new CountingEmbeddingGenerator(),
            services: s => s.AddChatClient(model).UseSemanticCache());
        await using var a = ChatInstance();
        await using var b = ChatInstance();
        var clients = new[] { a.GetRequiredService<IChatClient>(), b.GetRequiredService<IChatClient>() };
        var options = new ChatOptions().WithCacheScope(Scope);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => Task.Run(() => clients[i % 2].GetResponseAsync("What are the fees?", options))));

        Assert.All(responses, r => Assert.Equal(CountingChatClient.AnswerTo("What are the fees?"), r.Text));
        Assert.Equal(1, model.Calls);
    }

    [Fact]
    public async Task A_waiter_whose_wait_runs_out_runs_the_pipeline_itself()
    {
        await using var a = Instance(o => o.SingleFlightWait = TimeSpan.FromMilliseconds(200));
        await using var b = Instance(o => o.SingleFlightWait = TimeSpan.FromMilliseconds(200));
        var slowStarted = new TaskCompletionSource();
        var slow = a.GetRequiredService<QueryCacheService>().GetOrAddAsync("What are the fees?", Scope, async ct =>
        {
            slowStarted.SetResult();
            await Task.Delay(2000, ct);
            return "slow answer";
        });
        await slowStarted.Task;

        var watch = Stopwatch.StartNew();
        var fast = await b.GetRequiredService<QueryCacheService>().GetOrAddAsync("What are the fees?", Scope, _ => Task.FromResult("fast answer"));

        Assert.Equal("fast answer", fast.Answer);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"the waiter took {watch.Elapsed}");
        Assert.Equal("slow answer", (await slow).Answer);
    }

    [Fact]
    public async Task An_exact_hit_is_served_from_memory_and_an_invalidation_on_another_instance_ends_it_within_the_bound()
    {
        await using var a = TieredInstance();
        await using var b = TieredInstance();
        var cacheA = a.GetRequiredService<QueryCacheService>();
        var cacheB = b.GetRequiredService<QueryCacheService>();
        var tierB = b.GetRequiredService<LocalTier>();
        await Eventually.TrueAsync(() => Task.FromResult(tierB.Serving && a.GetRequiredService<LocalTier>().Serving));
        var query = new CacheQuery { Scope = Scope, Question = "What are the fees?" };
        await cacheA.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.45 %", Embedding = Vectors.Random(new Random(1)) });

        Assert.NotNull((await cacheB.LookupAsync(query)).Hit);
        Assert.Equal(1, tierB.Count);
        // Deleted behind the triggers' back (no notification): B still answers, from memory.
        await using (var connection = new NpgsqlConnection(Database.ConnectionString))
        {
            await connection.ExecuteAsync("SET session_replication_role = replica; DELETE FROM askwealth.query_cache_embeddings; RESET session_replication_role");
        }

        Assert.Equal("0.45 %", (await cacheB.LookupAsync(query)).Hit?.Answer);

        // A's invalidation reaches B through the database's notification.
        await cacheA.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.40 %", Embedding = Vectors.Random(new Random(2)) });
        await cacheA.InvalidateTenantAsync("t");
        var watch = Stopwatch.StartNew();
        while ((await cacheB.LookupAsync(query)).Hit is not null)
        {
            Assert.True(watch.Elapsed < InvalidationBound, $"instance B still served the invalidated entry after {watch.Elapsed}");
            await Task.Delay(5);
        }

        Assert.Equal(0, tierB.Count);

        // A config change reaches the tier too: a disabled tenant is not answered from memory.
        await cacheA.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = "What are the fees?", Answer = "0.40 %", Embedding = Vectors.Random(new Random(2)) });
        Assert.NotNull((await cacheB.LookupAsync(query)).Hit);
        Assert.Equal(1, tierB.Count);
        await cacheA.UpdateConfigAsync(new CacheConfigUpdate { CacheEnabled = false }, "t");
        await Eventually.TrueAsync(() => Task.FromResult(tierB.Count == 0));
        Assert.Null((await cacheB.LookupAsync(query)).Hit);
    }

    [Fact]
    public async Task Killing_the_notification_connection_empties_the_tier_which_then_reconnects()
    {
        await using var b = TieredInstance();
        var cache = b.GetRequiredService<QueryCacheService>();
        var tier = b.GetRequiredService<LocalTier>();
        await Eventually.TrueAsync(() => Task.FromResult(tier.Serving));
        for (var i = 0; i < 3; i++)
        {
            await StoreAndFindAsync(cache, i);
        }

        Assert.Equal(3, tier.Count);
        await using (var connection = new NpgsqlConnection(Database.ConnectionString))
        {
            Assert.True(await connection.ExecuteScalarAsync<int>("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE application_name = 'querycache-tier' AND datname = current_database()
                """) >= 1);
        }

        await Eventually.TrueAsync(() => Task.FromResult(tier.Count == 0));
        await Eventually.TrueAsync(() => Task.FromResult(tier.Serving));
        Assert.NotNull((await cache.LookupAsync(new CacheQuery { Scope = Scope, Question = "question 1" })).Hit);
        Assert.Equal(1, tier.Count);
    }

    [Fact]
    public async Task The_tier_holds_at_most_its_size()
    {
        await using var b = Instance(o => o.LocalTierSize = 5);
        var cache = b.GetRequiredService<QueryCacheService>();
        var tier = b.GetRequiredService<LocalTier>();
        await Eventually.TrueAsync(() => Task.FromResult(tier.Serving));
        for (var i = 0; i < 20; i++)
        {
            await StoreAndFindAsync(cache, i);
            Assert.InRange(tier.Count, 1, 5);
        }
    }

    /// <summary>Stores "question {i}" and finds it by its text: an exact hit, which the tier keeps.</summary>
    private static async Task StoreAndFindAsync(QueryCacheService cache, int i)
    {
        await cache.AddToCacheAsync(new CacheEntry { Scope = Scope, QueryText = $"question {i}", Answer = "a", Embedding = Vectors.Random(new Random(i)) });
        Assert.NotNull((await cache.LookupAsync(new CacheQuery { Scope = Scope, Question = $"question {i}" })).Hit);
    }

    [Fact]
    public async Task Every_way_entries_leave_or_settings_change_is_announced_with_its_tenant()
    {
        await using var provider = Instance();
        var cache = provider.GetRequiredService<QueryCacheService>();
        await using var listener = new NpgsqlConnection(Database.ConnectionString);
        await listener.OpenAsync();
        var payloads = new List<string>();
        listener.Notification += (_, e) => payloads.Add(e.Payload);
        await listener.ExecuteAsync($"LISTEN {QueryCacheSchema.InvalidationChannel}");
        // The first announcement may take a while on a loaded machine; the rest of a change's follow within a short quiet spell.
        async Task<string[]> AnnouncedAsync(Func<Task> change, bool expected = true)
        {
            payloads.Clear();
            await change();
            var wait = TimeSpan.FromMilliseconds(expected ? 5000 : 300);
            while (await listener.WaitAsync(wait))
            {
                wait = TimeSpan.FromMilliseconds(300);
            }

            return [.. payloads.Distinct().Order()];
        }

        Task Store(string tenant, int i) => cache.AddToCacheAsync(new CacheEntry
        {
            Scope = new CacheScope(tenant), QueryText = $"q {i}", Answer = "a", Embedding = Vectors.Random(new Random(i)),
        });

        await Store("t1", 1);
        await Store("t2", 2);
        Assert.Empty(await AnnouncedAsync(() => Store("t1", 3), expected: false));
        Assert.Equal(["t1"], await AnnouncedAsync(() => cache.InvalidateTenantAsync("t1")));
        Assert.Equal(["t2"], await AnnouncedAsync(() => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 }, "t2")));
        Assert.Equal(["*"], await AnnouncedAsync(() => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 })));
        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 1 }, "t2");
        await Store("t2", 4);
        Assert.Equal(["t2"], await AnnouncedAsync(async () => await cache.CleanupAsync()));
        Assert.Equal(["t2"], await AnnouncedAsync(async () => await cache.InvalidateAllAsync()));
    }
}
