using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>Defects found by the one-engine review, through the public API: the lookup's time budget, its counters, its flights.</summary>
public sealed class LookupBudgetTests(DatabaseFixture database) : DatabaseTest(database)
{
    /// <summary>Takes two seconds per call (a model endpoint on a bad day), or the delay given; counts calls and cancellations.</summary>
    private sealed class SlowEmbeddingGenerator(int delayMs = 2000) : IEmbeddingGenerator<string, Embedding<float>>
    {
        private readonly CountingEmbeddingGenerator _inner = new();

        public int Calls;

        public int Cancelled;

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
            CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            try
            {
                await Task.Delay(delayMs, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref Cancelled);
                throw;
            }

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
    public async Task Embedding_during_the_exact_match_overlaps_a_miss_and_is_cancelled_by_an_exact_hit()
    {
        var generator = new SlowEmbeddingGenerator(delayMs: 1500);
        await using var provider = Database.BuildServices(o => o.EmbedDuringExactMatch = true, generator);
        var cache = provider.GetRequiredService<IQueryCacheService>();
        var scope = new CacheScope("acme");
        await cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "What are the fees?", Answer = "0.2%" });

        var watch = Stopwatch.StartNew();
        Assert.Equal("0.2%", (await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "what are the fees?" })).Hit?.Answer);
        Assert.True(watch.ElapsedMilliseconds < 1000, $"the exact hit waited {watch.ElapsedMilliseconds} ms for an embedding it did not need");
        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref generator.Cancelled) == 1));

        // A miss embeds once: the embedding started beside the exact round trip is the one the vector search uses.
        var calls = Volatile.Read(ref generator.Calls);
        Assert.Null((await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "How do pensions work?" })).Hit);
        Assert.Equal(calls + 1, Volatile.Read(ref generator.Calls));
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
