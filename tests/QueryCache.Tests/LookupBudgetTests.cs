using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>Defects found by the one-engine review, through the public API: the lookup's time budget, its counters, its flights.</summary>
public sealed class LookupBudgetTests(DatabaseFixture database) : DatabaseTest(database)
{
    /// <summary>Takes two seconds per call: a model endpoint on a bad day.</summary>
    private sealed class SlowEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
            CancellationToken cancellationToken = default)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            return await _inner.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_lookup_timeout_bounds_the_whole_lookup_embedding_included(bool failOpen)
    {
        await using var provider = Database.BuildServices(o => (o.LookupTimeout, o.FailOpen) = (TimeSpan.FromMilliseconds(300), failOpen),
            new SlowEmbeddingGenerator());
        var cache = provider.GetRequiredService<IQueryCacheService>();
        var watch = Stopwatch.StartNew();
        if (failOpen)
        {
            var result = await cache.LookupAsync(new CacheQuery { Scope = new CacheScope("acme"), Question = "What are the fees?" });
            Assert.Null(result.Hit);
            Assert.Equal(CacheMissReason.Unavailable, result.MissReason);
        }
        else
        {
            var error = await Assert.ThrowsAsync<TimeoutException>(() => cache.CheckCacheAsync("What are the fees?", new CacheScope("acme")));
            Assert.Contains("LookupTimeout", error.Message);
        }

        // 2,000 ms without the budget; the margin is for a busy machine.
        Assert.True(watch.ElapsedMilliseconds < 1500, $"the lookup took {watch.ElapsedMilliseconds} ms with a 300 ms budget");
    }

    [Fact]
    public async Task A_get_or_add_miss_counts_as_one_lookup()
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<IQueryCacheService>();
        var before = await cache.GetCacheStatsAsync();
        await cache.GetOrAddAsync("What are the fees?", new CacheScope("acme"), _ => Task.FromResult("0.25% a year"));
        var after = await cache.GetCacheStatsAsync();
        Assert.Equal((before.LookupMisses + 1, before.LookupHits), (after.LookupMisses, after.LookupHits));

        await cache.GetOrAddAsync("What are the fees?", new CacheScope("acme"), _ => Task.FromResult("unused"));
        Assert.Equal(after.LookupHits + 1, (await cache.GetCacheStatsAsync()).LookupHits);
    }

    [Theory]
    [InlineData(0.841, 0.911, 2)]
    [InlineData(0.841, 0.841, 1)]
    public async Task Callers_share_a_flight_only_when_they_ask_at_the_same_threshold(double first, double second, int pipelineRuns)
    {
        await using var provider = Database.BuildServices(o => o.SingleFlightWait = TimeSpan.Zero, new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<IQueryCacheService>();
        var runs = 0;
        var release = new TaskCompletionSource();
        async Task<string> Pipeline(CancellationToken ct)
        {
            Interlocked.Increment(ref runs);
            await release.Task.WaitAsync(ct);
            return "answer";
        }

        var scope = new CacheScope("acme");
        var a = cache.GetOrAddAsync("What are the fees?", scope, Pipeline, first);
        var b = cache.GetOrAddAsync("What are the fees?", scope, Pipeline, second);
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref runs) >= pipelineRuns));
        await Task.Delay(200);
        release.SetResult();
        await Task.WhenAll(a, b);
        Assert.Equal(pipelineRuns, runs);
    }
}
