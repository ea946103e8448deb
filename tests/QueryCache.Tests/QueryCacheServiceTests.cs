using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

public sealed class QueryCacheServiceTests(DatabaseFixture database) : DatabaseTest(database)
{
    private readonly Random _rng = new(42);

    private static CacheScope Tenant(string tenant, string? user = null) => new(tenant, user);

    private static CacheEntry Entry(CacheScope scope, float[] embedding, string question = "What are the fees?", Guid? userMessageId = null) => new()
    {
        Scope = scope,
        QueryText = question,
        Answer = "answer to " + question,
        Embedding = embedding,
        UserMessageId = userMessageId,
        AssistantMessageId = userMessageId is null ? null : Guid.NewGuid(),
    };

    private (ServiceProvider Provider, QueryCacheService Cache) Create(Action<QueryCacheOptions>? configure = null,
        CountingEmbeddingGenerator? generator = null)
    {
        var provider = Database.BuildServices(configure, generator);
        return (provider, provider.GetRequiredService<QueryCacheService>());
    }

    [Fact]
    public async Task A_stored_entry_answers_a_close_question_and_the_threshold_boundary_is_exact()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var stored = Vectors.Random(_rng);
        var id = await cache.AddToCacheAsync(Entry(Tenant("t1"), stored));
        var query = Vectors.AtSimilarity(stored, 0.9, _rng);

        var hit = await cache.CheckCacheAsync(query, Tenant("t1"));
        Assert.NotNull(hit);
        Assert.Equal(id, hit.EntryId);
        Assert.Equal("answer to What are the fees?", hit.Answer);
        Assert.Equal(0.9, hit.Similarity, 5);

        // The database's own similarity of the pair is the boundary: at it a hit, a hair above it a miss.
        Assert.NotNull(await cache.CheckCacheAsync(query, Tenant("t1"), hit.Similarity));
        Assert.Null(await cache.CheckCacheAsync(query, Tenant("t1"), Math.BitIncrement(hit.Similarity)));

        // Below the default threshold (0.85): a miss.
        Assert.Null(await cache.CheckCacheAsync(Vectors.AtSimilarity(stored, 0.84, _rng), Tenant("t1")));
        Assert.NotNull(await cache.CheckCacheAsync(Vectors.AtSimilarity(stored, 0.86, _rng), Tenant("t1")));
    }

    [Fact]
    public async Task Per_call_threshold_overrides_tenant_config_which_overrides_global_config()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var stored = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("strict"), stored));
        await cache.AddToCacheAsync(Entry(Tenant("lenient"), stored));
        var query = Vectors.AtSimilarity(stored, 0.8, _rng);

        Assert.Null(await cache.CheckCacheAsync(query, Tenant("strict")));
        Assert.NotNull(await cache.CheckCacheAsync(query, Tenant("strict"), 0.75));

        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.75 }, "lenient");
        Assert.NotNull(await cache.CheckCacheAsync(query, Tenant("lenient")));
        Assert.Null(await cache.CheckCacheAsync(query, Tenant("strict")));
        Assert.Null(await cache.CheckCacheAsync(query, Tenant("lenient"), 0.95));

        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.7 });
        Assert.NotNull(await cache.CheckCacheAsync(query, Tenant("strict")));

        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 }, "lenient");
        Assert.Null(await cache.CheckCacheAsync(query, Tenant("lenient")));
        await cache.ResetConfigAsync("lenient");
        Assert.NotNull(await cache.CheckCacheAsync(query, Tenant("lenient")));
    }

    [Fact]
    public async Task No_tenant_ever_sees_another_tenants_entries_nor_a_user_another_users_private_ones()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var tenants = Enumerable.Range(0, 6).Select(i => $"tenant-{i}").ToArray();
        var users = new string?[] { null, "alice", "bob" };
        var stored = new List<(CacheScope Scope, float[] Vector, long Id)>();
        for (var i = 0; i < 90; i++)
        {
            var scope = Tenant(tenants[_rng.Next(tenants.Length)], users[_rng.Next(users.Length)]);
            var vector = Vectors.Random(_rng);
            stored.Add((scope, vector, await cache.AddToCacheAsync(Entry(scope, vector, $"question {i}"))));
        }

        // Each tenant also stores a copy of one shared vector, so every lookup of it has a candidate in every tenant.
        var common = Vectors.Random(_rng);
        foreach (var tenant in tenants)
        {
            stored.Add((Tenant(tenant, "alice"), common, await cache.AddToCacheAsync(Entry(Tenant(tenant, "alice"), common, "common " + tenant))));
        }

        var byId = stored.ToDictionary(s => s.Id);
        for (var i = 0; i < 300; i++)
        {
            var source = stored[_rng.Next(stored.Count)];
            var asker = Tenant(tenants[_rng.Next(tenants.Length)], users[_rng.Next(users.Length)]);
            var hit = await cache.CheckCacheAsync(Vectors.AtSimilarity(source.Vector, 0.97, _rng), asker, 0.0);
            if (hit is null)
            {
                continue;
            }

            var owner = byId[hit.EntryId].Scope;
            Assert.Equal(asker.TenantId, owner.TenantId);
            Assert.True(owner.UserId is null || owner.UserId == asker.UserId,
                $"user {asker.UserId ?? "(none)"} was answered by {owner.UserId}'s private entry");
        }
    }

    [Fact]
    public async Task A_tenant_owning_one_percent_of_20000_entries_always_finds_its_own_near_duplicate()
    {
        var rng = new Random(11);
        var small = Enumerable.Range(0, 200).Select(i => new SeedEntry("small", null, Vectors.Random(rng), $"small {i}")).ToList();
        var large = Enumerable.Range(0, 19_800).Select(i => new SeedEntry("large", null, Vectors.Random(rng), $"large {i}"));
        await TestData.InsertEntriesAsync(Database.ConnectionString, large.Concat(small), rebuildIndex: true);

        // Whatever the session's plan cache mode (a generic plan walks the HNSW index and filters), the lookup plans
        // per tenant; the small tenant's nearest entry is found every time.
        var generic = new Npgsql.NpgsqlConnectionStringBuilder(Database.ConnectionString) { Options = "-c plan_cache_mode=force_generic_plan" }.ConnectionString;
        foreach (var connectionString in new[] { Database.ConnectionString, generic })
        {
            var (provider, cache) = Create(o => o.ConnectionString = connectionString);
            await using var _ = provider;
            foreach (var entry in small.Take(50))
            {
                var hit = await cache.CheckCacheAsync(Vectors.AtSimilarity(entry.Embedding, 0.95, rng), Tenant("small"));
                Assert.Equal(entry.QueryText, hit?.QueryText);
            }
        }
    }

    [Fact]
    public async Task Entries_of_another_embedding_model_never_match()
    {
        var (providerA, cacheA) = Create(o => o.EmbeddingModel = "model-a");
        var (providerB, cacheB) = Create(o => o.EmbeddingModel = "model-b");
        await using var a = providerA;
        await using var b = providerB;
        var vector = Vectors.Random(_rng);
        await cacheA.AddToCacheAsync(Entry(Tenant("t"), vector));
        Assert.Null(await cacheB.CheckCacheAsync(vector, Tenant("t")));
        Assert.NotNull(await cacheA.CheckCacheAsync(vector, Tenant("t")));
    }

    [Fact]
    public async Task Expired_entries_never_answer_and_the_default_ttl_applies_to_entries_without_one()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("t"), vector) with { TimeToLive = TimeSpan.FromHours(1) });
        Assert.NotNull(await cache.CheckCacheAsync(vector, Tenant("t")));

        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE askwealth.query_cache_embeddings SET expires_at = now() - interval '1 millisecond'");
        }

        Assert.Null(await cache.CheckCacheAsync(vector, Tenant("t")));

        await cache.UpdateConfigAsync(new CacheConfigUpdate { DefaultTimeToLive = TimeSpan.FromMinutes(30) }, "t");
        var id = await cache.AddToCacheAsync(Entry(Tenant("t"), Vectors.Random(_rng), "another"));
        await using (var connection = await OpenAsync())
        {
            var ttl = await connection.ExecuteScalarAsync<TimeSpan>(
                "SELECT expires_at - created_at FROM askwealth.query_cache_embeddings WHERE id = @id", new { id });
            Assert.InRange(ttl, TimeSpan.FromMinutes(29.9), TimeSpan.FromMinutes(30.1));
        }
    }

    [Fact]
    public async Task Disabled_cache_misses_every_lookup()
    {
        var (provider, cache) = Create(generator: new CountingEmbeddingGenerator());
        await using var _ = provider;
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("t"), vector));
        await cache.UpdateConfigAsync(new CacheConfigUpdate { CacheEnabled = false });
        Assert.Null(await cache.CheckCacheAsync(vector, Tenant("t")));
        Assert.Null(await cache.CheckCacheAsync("What are the fees?", Tenant("t")));
        await cache.UpdateConfigAsync(new CacheConfigUpdate { CacheEnabled = true }, "t");
        Assert.NotNull(await cache.CheckCacheAsync(vector, Tenant("t")));
    }

    [Fact]
    public async Task Adding_the_same_user_message_twice_keeps_one_row_and_never_moves_it_to_another_tenant()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var messageId = Guid.NewGuid();
        var first = await cache.AddToCacheAsync(Entry(Tenant("t"), Vectors.Random(_rng), "first", messageId));
        var second = await cache.AddToCacheAsync(Entry(Tenant("t"), Vectors.Random(_rng), "second", messageId));
        Assert.Equal(first, second);
        Assert.Equal(1, await CountEntriesAsync());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            cache.AddToCacheAsync(Entry(Tenant("other"), Vectors.Random(_rng), "stolen", messageId)));
        Assert.Contains("another tenant", error.Message);
        await using var connection = await OpenAsync();
        Assert.Equal("t", await connection.ExecuteScalarAsync<string>("SELECT tenant_id FROM askwealth.query_cache_embeddings"));
    }

    [Fact]
    public async Task Invalidation_by_tenant_user_message_and_all_removes_exactly_those_entries()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var message = Guid.NewGuid();
        await cache.AddToCacheAsync(Entry(Tenant("a"), Vectors.Random(_rng), "a1"));
        await cache.AddToCacheAsync(Entry(Tenant("a", "u1"), Vectors.Random(_rng), "a2"));
        await cache.AddToCacheAsync(Entry(Tenant("a", "u1"), Vectors.Random(_rng), "a3"));
        await cache.AddToCacheAsync(Entry(Tenant("b", "u1"), Vectors.Random(_rng), "b1"));
        await cache.AddToCacheAsync(Entry(Tenant("b"), Vectors.Random(_rng), "b2", message));
        await cache.AddToCacheAsync(Entry(Tenant("c"), Vectors.Random(_rng), "c1"));
        await cache.AddToCacheAsync(Entry(Tenant("c"), Vectors.Random(_rng), "c2"));

        Assert.Equal(2, await cache.InvalidateUserAsync("a", "u1"));
        Assert.Equal(5, await CountEntriesAsync());
        Assert.Equal(1, await cache.InvalidateMessagesAsync([message, Guid.NewGuid()]));
        Assert.Equal(2, await cache.InvalidateTenantAsync("c"));
        Assert.Equal(0, await cache.InvalidateTenantAsync("c"));
        await using (var connection = await OpenAsync())
        {
            var left = (await connection.QueryAsync<string>("SELECT query_text FROM askwealth.query_cache_embeddings ORDER BY 1")).ToList();
            Assert.Equal(["a1", "b1"], left);
        }

        Assert.Equal(2, await cache.InvalidateAllAsync());
        Assert.Equal(0, await CountEntriesAsync());
    }

    [Fact]
    public async Task Stats_count_entries_hits_and_this_processes_hit_rate()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var v1 = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("a"), v1, "one"));
        await cache.AddToCacheAsync(Entry(Tenant("a"), Vectors.Random(_rng), "two"));
        await cache.AddToCacheAsync(Entry(Tenant("b"), Vectors.Random(_rng), "three"));
        await cache.CheckCacheAsync(v1, Tenant("a"));
        await cache.CheckCacheAsync(v1, Tenant("a"));
        await cache.CheckCacheAsync(Vectors.Random(_rng), Tenant("a"));

        var all = await cache.GetCacheStatsAsync();
        Assert.Equal(3, all.TotalEntries);
        Assert.Equal(2, all.TotalCacheHits);
        Assert.Equal(1, all.EntriesWithHits);
        Assert.Equal(2, all.TenantCount);
        Assert.Equal(2, all.LookupHits);
        Assert.Equal(1, all.LookupMisses);
        Assert.Equal(2.0 / 3, all.HitRate, 6);
        Assert.NotNull(all.LastHitAt);
        Assert.True(all.OldestEntryAt <= all.NewestEntryAt);

        var b = await cache.GetCacheStatsAsync("b");
        Assert.Equal(1, b.TotalEntries);
        Assert.Equal(0, b.TotalCacheHits);
    }

    [Fact]
    public async Task Config_round_trips_globally_and_per_tenant_and_invalid_values_leave_it_unchanged()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var defaults = await cache.GetConfigAsync();
        Assert.Equal(new CacheConfig { SimilarityThreshold = 0.85, CacheEnabled = true, MaxCacheEntries = 5000, ContrastTerms = SampleContrastTerms.Wealth }, defaults);

        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 100, DefaultTimeToLive = TimeSpan.FromDays(7) }, "t");
        Assert.Equal(new CacheConfig { TenantId = "t", SimilarityThreshold = 0.85, CacheEnabled = true, MaxCacheEntries = 100, DefaultTimeToLive = TimeSpan.FromDays(7), ContrastTerms = SampleContrastTerms.Wealth },
            await cache.GetConfigAsync("t"));
        Assert.Equal(defaults, await cache.GetConfigAsync());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 1.5 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = double.NaN }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = -1 }, "t"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.UpdateConfigAsync(new CacheConfigUpdate { DefaultTimeToLive = TimeSpan.FromSeconds(-1) }));
        await Assert.ThrowsAsync<ArgumentException>(() => cache.UpdateConfigAsync(new CacheConfigUpdate { CacheEnabled = false }, " "));
        Assert.Equal(defaults, await cache.GetConfigAsync());
        Assert.Equal(100, (await cache.GetConfigAsync("t")).MaxCacheEntries);
    }

    [Fact]
    public async Task A_repeated_question_is_answered_by_the_exact_match_path_without_an_embedding_call()
    {
        var generator = new CountingEmbeddingGenerator();
        var (provider, cache) = Create(generator: generator);
        await using var _ = provider;
        await cache.AddToCacheAsync(new CacheEntry { Scope = Tenant("t"), QueryText = "What are the FEES  on my ISA?", Answer = "0.2%" });
        Assert.Equal(1, generator.Calls);

        var hit = await cache.CheckCacheAsync("  what are the fees on my isa? ", Tenant("t"));
        Assert.Equal("0.2%", hit?.Answer);
        Assert.Equal(1.0, hit!.Similarity);
        Assert.Equal(1, generator.Calls);

        Assert.Null(await cache.CheckCacheAsync("How do pensions work?", Tenant("t")));
        Assert.Equal(2, generator.Calls);
        Assert.Null(await cache.CheckCacheAsync("what are the fees on my isa?", Tenant("other")));
    }

    [Fact]
    public async Task Without_the_exact_match_path_a_text_lookup_embeds_and_finds_the_entry_by_vector()
    {
        var generator = new CountingEmbeddingGenerator();
        var (provider, cache) = Create(o => o.ExactMatch = false, generator);
        await using var _ = provider;
        await cache.AddToCacheAsync(new CacheEntry { Scope = Tenant("t"), QueryText = "What are the fees?", Answer = "0.2%", Embedding = generator.Embed("What are the fees?") });
        Assert.Equal("0.2%", (await cache.CheckCacheAsync("What are the fees?", Tenant("t")))?.Answer);
        Assert.Equal(1, generator.Calls);
    }

    [Fact]
    public async Task Hits_are_counted_apart_from_the_entry_so_recording_one_never_rewrites_the_row_with_the_vector()
    {
        // A database of its own, so its table statistics count this test's writes only.
        var cs = await Database.CreateDatabaseAsync("hits");
        await QueryCache.Migrations.QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions);
        var (provider, cache) = Create(o =>
        {
            o.ConnectionString = cs;
            o.BackgroundIndexing = false;
        });
        await using var _ = provider;
        var vector = Vectors.Random(_rng);
        var id = await cache.AddToCacheAsync(Entry(Tenant("t"), vector));
        for (var i = 0; i < 20; i++)
        {
            Assert.NotNull(await cache.CheckCacheAsync(vector, Tenant("t")));
        }

        await cache.FlushHitsAsync();
        await using var connection = new Npgsql.NpgsqlConnection(cs);
        var (hits, lastHit) = await connection.QuerySingleAsync<(long, DateTime?)>(
            "SELECT hit_count, last_hit_at FROM askwealth.query_cache_hits WHERE entry_id = @id", new { id });
        Assert.Equal(20, hits);
        Assert.NotNull(lastHit);

        // The cache's connections report their statistics when they close.
        await provider.DisposeAsync();
        (long HitWrites, long EntryUpdates) stats = default;
        for (var attempt = 0; attempt < 50 && stats.HitWrites < 1; attempt++)
        {
            await Task.Delay(100);
            stats = await connection.QuerySingleAsync<(long, long)>("""
                SELECT (SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname = 'query_cache_hits'),
                       (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'query_cache_embeddings')
                """);
        }

        Assert.True(stats.HitWrites >= 1, "expected the hit writes in the statistics");
        Assert.Equal(0, stats.EntryUpdates);
    }

    [Fact]
    public async Task A_store_answers_at_once_and_joins_the_hnsw_index_behind_the_store()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var vector = Vectors.Random(_rng);
        var id = await cache.AddToCacheAsync(Entry(Tenant("t"), vector));
        Assert.Equal(id, (await cache.CheckCacheAsync(vector, Tenant("t")))?.EntryId);
        await using var connection = await OpenAsync();
        var indexed = false;
        for (var attempt = 0; attempt < 100 && !indexed; attempt++)
        {
            indexed = await connection.ExecuteScalarAsync<bool>("SELECT indexed FROM askwealth.query_cache_embeddings WHERE id = @id", new { id });
            await Task.Delay(indexed ? 0 : 50);
        }

        Assert.True(indexed, "the background index pass did not index the stored entry");
    }

    [Fact]
    public async Task Lookups_stores_and_invalidations_are_measured()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var lookups = new MetricCollector<long>(factory, "QueryCache", "querycache.lookups");
        using var duration = new MetricCollector<double>(factory, "QueryCache", "querycache.lookup.duration");
        using var stores = new MetricCollector<long>(factory, "QueryCache", "querycache.stores");
        using var invalidations = new MetricCollector<long>(factory, "QueryCache", "querycache.invalidations");

        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("t"), vector));
        await cache.CheckCacheAsync(vector, Tenant("t"));
        await cache.CheckCacheAsync(Vectors.Random(_rng), Tenant("t"));
        await cache.InvalidateTenantAsync("t");

        Assert.Equal(["hit", "miss"], lookups.GetMeasurementSnapshot().Select(m => (string)m.Tags["querycache.result"]!));
        Assert.Equal(2, duration.GetMeasurementSnapshot().Count);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 5));
        Assert.Equal("stored", Assert.Single(stores.GetMeasurementSnapshot()).Tags["querycache.result"]);
        Assert.Equal(1, Assert.Single(invalidations.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task Health_check_is_healthy_on_the_migrated_database_and_unhealthy_on_a_bare_one()
    {
        await using (var provider = Database.BuildServices(services: s => s.AddHealthChecks().AddQueryCache()))
        {
            var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, report.Status);
        }

        var bare = await Database.CreateDatabaseAsync("health");
        await using (var provider = Database.BuildServices(o => o.ConnectionString = bare, services: s => s.AddHealthChecks().AddQueryCache()))
        {
            var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Unhealthy, report.Status);
            Assert.Contains("vector extension", report.Entries["querycache"].Description);
        }

        await using (var provider = Database.BuildServices(o => o.Dimensions = 768, services: s => s.AddHealthChecks().AddQueryCache()))
        {
            var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Contains("stores 384 dimensions", report.Entries["querycache"].Description);
        }
    }

    [Fact]
    public async Task Options_are_validated_when_the_cache_is_first_resolved()
    {
        await using var missingModel = Database.BuildServices(o => o.EmbeddingModel = "");
        var error = Assert.Throws<OptionsValidationException>(() => missingModel.GetRequiredService<IOptions<QueryCacheOptions>>().Value);
        Assert.Contains("EmbeddingModel", error.Message);

        await using var noConnection = Database.BuildServices(o => o.ConnectionString = null);
        error = Assert.Throws<OptionsValidationException>(() => noConnection.GetRequiredService<IOptions<QueryCacheOptions>>().Value);
        Assert.Contains("ConnectionString is not set", error.Message);

        await using var badDimensions = Database.BuildServices(o => o.Dimensions = 0);
        Assert.Throws<OptionsValidationException>(() => badDimensions.GetRequiredService<IOptions<QueryCacheOptions>>().Value);
    }

    [Fact]
    public async Task Options_bind_from_a_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["QueryCache:ConnectionString"] = Database.ConnectionString,
            ["QueryCache:Dimensions"] = "384",
            ["QueryCache:EmbeddingModel"] = DatabaseFixture.EmbeddingModel,
            ["QueryCache:LookupTimeout"] = "00:00:02",
            ["QueryCache:HitRecording"] = "None",
        }).Build();
        await using var provider = new ServiceCollection().AddLogging().AddQueryCache(configuration.GetSection("QueryCache")).BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<QueryCacheOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(2), options.LookupTimeout);
        Assert.Equal(HitRecordingMode.None, options.HitRecording);
        var cache = provider.GetRequiredService<IQueryCacheService>();
        Assert.Same(provider.GetRequiredService<QueryCacheService>(), cache);
        var vector = Vectors.Random(_rng);
        await cache.AddToCacheAsync(Entry(Tenant("t"), vector));
        Assert.NotNull(await cache.CheckCacheAsync(vector, Tenant("t")));
        Assert.Equal(0, (await cache.GetCacheStatsAsync()).TotalCacheHits);
    }

    [Fact]
    public async Task Batched_hit_recording_writes_the_counts_on_its_interval_and_on_dispose()
    {
        var (provider, cache) = Create(o =>
        {
            o.HitRecording = HitRecordingMode.Batched;
            o.HitFlushInterval = TimeSpan.FromSeconds(2);
        });
        var first = Vectors.Random(_rng);
        var second = Vectors.Random(_rng);
        var firstId = await cache.AddToCacheAsync(Entry(Tenant("t"), first, "first"));
        var secondId = await cache.AddToCacheAsync(Entry(Tenant("t"), second, "second"));
        await using var connection = await OpenAsync();
        const string Hits = "SELECT coalesce((SELECT hit_count FROM askwealth.query_cache_hits WHERE entry_id = @id), 0)";

        // Counted in memory first: the lookups themselves write nothing.
        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull(await cache.CheckCacheAsync(first, Tenant("t")));
        }

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(Hits, new { id = firstId }));
        for (var attempt = 0; attempt < 50 && await connection.ExecuteScalarAsync<long>(Hits, new { id = firstId }) < 3; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(3, await connection.ExecuteScalarAsync<long>(Hits, new { id = firstId }));

        // Whatever is still pending when the host shuts down is written on dispose.
        Assert.NotNull(await cache.CheckCacheAsync(second, Tenant("t")));
        await provider.DisposeAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(Hits, new { id = secondId }));
    }
}
