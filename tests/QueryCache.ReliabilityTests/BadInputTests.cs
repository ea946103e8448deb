using Dapper;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>Every invalid argument gets an <see cref="ArgumentException"/> that names it and says how to fix it, and nothing is written.</summary>
public sealed class BadInputTests(DatabaseFixture database) : DatabaseTest(database)
{
    private static readonly float[] Good = Vectors.Random(new Random(1));

    public static TheoryData<string, float[]> BadEmbeddings => new()
    {
        { "dimensions; the cache is configured for 384", new float[1536] },
        { "dimensions; the cache is configured for 384", [] },
        { "NaN at index 3", With(3, float.NaN) },
        { "at index 0; every component must be a finite number", With(0, float.PositiveInfinity) },
        { "all zeros", new float[DatabaseFixture.Dimensions] },
    };

    public static TheoryData<string, CacheEntry> BadEntries => new()
    {
        { "entry.Scope.TenantId", Valid() with { Scope = new CacheScope("") } },
        { "entry.Scope.TenantId", Valid() with { Scope = new CacheScope("   ") } },
        { "entry.Scope.TenantId", Valid() with { Scope = new CacheScope(new string('t', QueryCacheSchema.MaxScopeIdLength + 1)) } },
        { "entry.Scope.TenantId", Valid() with { Scope = new CacheScope("a\0b") } },
        { "entry.Scope.UserId", Valid() with { Scope = new CacheScope("t", "") } },
        { "entry.QueryText", Valid() with { QueryText = "" } },
        { "entry.QueryText", Valid() with { QueryText = new string('q', QueryCacheSchema.MaxQueryTextLength + 1) } },
        { "entry.Answer", Valid() with { Answer = " " } },
        { "entry.Answer", Valid() with { Answer = new string('a', QueryCacheSchema.MaxAnswerLength + 1) } },
        { "entry.TimeToLive", Valid() with { TimeToLive = TimeSpan.FromSeconds(-1) } },
        { "entry.TimeToLive", Valid() with { TimeToLive = TimeSpan.Zero } },
        { "entry", Valid() with { UserMessageId = Guid.Empty } },
        { "entry.Embedding", Valid() with { Embedding = new float[10] } },
        { "entry.Embedding", Valid() with { Embedding = With(5, float.NegativeInfinity) } },
    };

    [Theory]
    [MemberData(nameof(BadEmbeddings))]
    public async Task A_bad_lookup_embedding_is_refused_with_the_fix(string message, float[] embedding)
    {
        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => cache.CheckCacheAsync(embedding, new CacheScope("t")));
        Assert.Equal("embedding", error.ParamName);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public async Task A_threshold_outside_zero_to_one_is_refused(double threshold)
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<QueryCacheService>();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.CheckCacheAsync(Good, new CacheScope("t"), threshold));
        Assert.Equal("similarityThreshold", error.ParamName);
        Assert.Contains("from 0 to 1", error.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.CheckCacheAsync("question", new CacheScope("t"), threshold));
    }

    [Theory]
    [MemberData(nameof(BadEntries))]
    public async Task A_bad_entry_is_refused_and_nothing_is_written(string paramName, CacheEntry entry)
    {
        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        await cache.AddToCacheAsync(Valid());
        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => cache.AddToCacheAsync(entry));
        Assert.Equal(paramName, error.ParamName);
        Assert.Equal(1, await CountEntriesAsync());
    }

    [Fact]
    public async Task Bad_scope_and_ids_are_refused_by_lookups_invalidation_stats_and_config()
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<QueryCacheService>();
        await cache.AddToCacheAsync(Valid());

        Assert.Equal("scope.TenantId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.CheckCacheAsync(Good, new CacheScope("")))).ParamName);
        Assert.Equal("scope", (await Assert.ThrowsAsync<ArgumentNullException>(() => cache.CheckCacheAsync(Good, null!))).ParamName);
        Assert.Equal("question", (await Assert.ThrowsAsync<ArgumentException>(() => cache.CheckCacheAsync(" ", new CacheScope("t")))).ParamName);
        Assert.Equal("tenantId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateTenantAsync(""))).ParamName);
        Assert.Equal("userId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateUserAsync("t", ""))).ParamName);
        Assert.Equal("messageIds", (await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateMessagesAsync([]))).ParamName);
        Assert.Equal("messageIds", (await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateMessagesAsync([Guid.Empty]))).ParamName);
        Assert.Equal("tenantId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.GetCacheStatsAsync(""))).ParamName);
        Assert.Equal("tenantId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.GetConfigAsync(" "))).ParamName);
        Assert.Equal("tenantId", (await Assert.ThrowsAsync<ArgumentException>(() => cache.ResetConfigAsync(""))).ParamName);
        Assert.Equal(1, await CountEntriesAsync());
    }

    [Fact]
    public async Task Text_operations_without_an_embedding_generator_say_how_to_register_one()
    {
        await using var provider = Database.BuildServices(o => o.ExactMatch = false);
        var cache = provider.GetRequiredService<QueryCacheService>();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => cache.CheckCacheAsync("question", new CacheScope("t")));
        Assert.Contains("IEmbeddingGenerator", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.AddToCacheAsync(Valid() with { Embedding = default }));
        Assert.Equal(0, await CountEntriesAsync());
    }

    [Fact]
    public async Task Tenant_names_with_quotes_semicolons_unicode_and_10kb_are_stored_and_matched_literally()
    {
        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        var rng = new Random(9);
        string[] tenants = ["o'brien\"; DROP TABLE askwealth.message; --", "ténant-日本-🚀", new string('x', 10_240), "%", "_", "t1", "T1"];
        var vectors = tenants.Select(_ => Vectors.Random(rng)).ToArray();
        for (var i = 0; i < tenants.Length; i++)
        {
            await cache.AddToCacheAsync(Valid() with { Scope = new CacheScope(tenants[i]), Embedding = vectors[i], Answer = "answer " + i });
        }

        for (var i = 0; i < tenants.Length; i++)
        {
            Assert.Equal("answer " + i, (await cache.CheckCacheAsync(vectors[i], new CacheScope(tenants[i])))?.Answer);
            Assert.Null(await cache.CheckCacheAsync(vectors[i], new CacheScope(tenants[(i + 1) % tenants.Length])));
        }

        Assert.Equal(1, (await cache.GetCacheStatsAsync("%")).TotalEntries);
        Assert.Equal(1, await cache.InvalidateTenantAsync(tenants[0]));
        Assert.Equal(tenants.Length - 1, await CountEntriesAsync());
    }

    private static CacheEntry Valid() => new() { Scope = new CacheScope("t"), QueryText = "q", Answer = "a", Embedding = Good };

    private static float[] With(int index, float value)
    {
        var v = (float[])Good.Clone();
        v[index] = value;
        return v;
    }
}

public sealed class EveryMethodRefusesBadInputTests(DatabaseFixture database) : DatabaseTest(database)
{
    private static readonly float[] Good = Vectors.Random(new Random(2));

    [Fact]
    public async Task Every_public_method_refuses_every_invalid_argument_and_leaves_the_data_byte_for_byte_unchanged()
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<QueryCacheService>();
        await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("t", "u"), QueryText = "q", Answer = "a", Embedding = Good, UserMessageId = Guid.NewGuid() });
        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.9 }, "t");
        var before = await HashAsync();

        var scope = new CacheScope("t");
        var bad = new List<Func<Task>>
        {
            () => cache.CheckCacheAsync(new float[3], scope),
            () => cache.CheckCacheAsync(With(0, float.NaN), scope),
            () => cache.CheckCacheAsync(With(1, float.NegativeInfinity), scope),
            () => cache.CheckCacheAsync(new float[DatabaseFixture.Dimensions], scope),
            () => cache.CheckCacheAsync(Good, scope, -0.1),
            () => cache.CheckCacheAsync(Good, scope, 1.5),
            () => cache.CheckCacheAsync(Good, scope, double.NaN),
            () => cache.CheckCacheAsync(Good, new CacheScope("")),
            () => cache.CheckCacheAsync(Good, new CacheScope(new string('x', 20_000))),
            () => cache.CheckCacheAsync("", scope),
            () => cache.CheckCacheAsync(new string('q', 9_000), scope),
            () => cache.CheckCacheAsync("q", scope, 1.5),
            () => cache.GetOrAddAsync("", scope, _ => Task.FromResult("a")),
            () => cache.GetOrAddAsync("q", new CacheScope(" "), _ => Task.FromResult("a")),
            () => cache.GetOrAddAsync("q", scope, null!),
            () => cache.AddToCacheAsync(null!),
            () => cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "q", Answer = "a", Embedding = Good, TimeToLive = TimeSpan.FromHours(-1) }),
            () => cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "q", Answer = "", Embedding = Good }),
            () => cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "q", Answer = new string('a', 300_000), Embedding = Good }),
            () => cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "q", Answer = "a", Embedding = With(2, float.NaN) }),
            () => cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "q", Answer = "a", Embedding = Good, AskedByUserId = "" }),
            () => cache.InvalidateTenantAsync(""),
            () => cache.InvalidateUserAsync("t", " "),
            () => cache.InvalidateUserAsync("", "u"),
            () => cache.InvalidateMessagesAsync([]),
            () => cache.InvalidateMessagesAsync(null!),
            () => cache.GetCacheStatsAsync(""),
            () => cache.GetConfigAsync("\0"),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = -0.1 }),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 1.5 }, "t"),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = double.NaN }),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = -5 }),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 0 }, "t"),
            () => cache.UpdateConfigAsync(new CacheConfigUpdate { DefaultTimeToLive = TimeSpan.FromSeconds(-1) }),
            () => cache.UpdateConfigAsync(null!),
            () => cache.ResetConfigAsync(""),
            () => cache.PopulateFromExistingAsync(new BackfillRequest { TenantId = "" }),
        };

        foreach (var (call, index) in bad.Select((c, i) => (c, i)))
        {
            var error = await Assert.ThrowsAnyAsync<ArgumentException>(call);
            Assert.False(string.IsNullOrWhiteSpace(error.ParamName), $"call {index}: no parameter named in '{error.Message}'");
            Assert.True(error.Message.Length > error.ParamName!.Length + 20, $"call {index}: the message '{error.Message}' does not say how to fix it");
        }

        Assert.Equal(before, await HashAsync());
    }

    private async Task<string> HashAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<string>("""
            SELECT md5(coalesce((SELECT string_agg(e::text, '|' ORDER BY id) FROM askwealth.query_cache_embeddings e), '')
                    || coalesce((SELECT string_agg(c::text, '|' ORDER BY id) FROM askwealth.query_cache_config c), '')
                    || coalesce((SELECT string_agg(x::text, '|' ORDER BY tenant_id, user_id) FROM askwealth.query_cache_erasures x), ''))
            """) ?? "";
    }

    private static float[] With(int index, float value)
    {
        var v = (float[])Good.Clone();
        v[index] = value;
        return v;
    }
}
