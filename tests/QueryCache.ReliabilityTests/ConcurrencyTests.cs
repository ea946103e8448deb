using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

public sealed class ConcurrencyTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Fact]
    public async Task Lookups_stores_cleanup_and_invalidations_run_together_without_errors_or_lost_entries()
    {
        await using var provider = Database.BuildServices(o => o.LookupTimeout = TimeSpan.FromSeconds(10), services: s => s.Configure<QueryCacheJobOptions>(o => o.CleanupBatchSize = 20));
        var cache = provider.GetRequiredService<QueryCacheService>();
        var seed = new Random(3);

        // The stable tenant is never invalidated and stays under its cap: every one of its entries must survive.
        var stable = Enumerable.Range(0, 40).Select(_ => Vectors.Random(seed)).ToList();
        foreach (var (vector, i) in stable.Select((v, i) => (v, i)))
        {
            await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("stable"), QueryText = $"stable {i}", Answer = $"answer {i}", Embedding = vector });
        }

        await cache.UpdateConfigAsync(new CacheConfigUpdate { MaxCacheEntries = 30 }, "capped");
        var errors = new ConcurrentQueue<Exception>();
        var lookups = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        async Task Worker(int id)
        {
            var rng = new Random(id);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    switch (id % 4)
                    {
                        case 0 or 1:
                            var i = rng.Next(stable.Count);
                            var hit = await cache.CheckCacheAsync(Vectors.AtSimilarity(stable[i], 0.97, rng), new CacheScope("stable"));
                            Assert.Equal($"answer {i}", hit?.Answer);
                            Interlocked.Increment(ref lookups);
                            break;
                        case 2:
                            // A message id always belongs to the same tenant, as in a real app.
                            var message = rng.Next(20);
                            await cache.AddToCacheAsync(new CacheEntry
                            {
                                Scope = new CacheScope(message % 2 == 0 ? "capped" : "churn", rng.Next(2) == 0 ? "u" : null),
                                UserMessageId = rng.Next(3) == 0 ? new Guid(id, (short)message, 0, new byte[8]) : null,
                                QueryText = "q" + rng.Next(),
                                Answer = "a",
                                Embedding = Vectors.Random(rng),
                            });
                            break;
                        default:
                            await (rng.Next(3) switch
                            {
                                0 => cache.InvalidateTenantAsync("churn"),
                                1 => cache.InvalidateUserAsync("capped", "u"),
                                _ => cache.CleanupAsync().ContinueWith(t => t.IsFaulted && t.Exception!.InnerException is not QueryCacheJobBusyException
                                    ? throw t.Exception.InnerException! : 0, TaskScheduler.Default),
                            });
                            break;
                    }
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 32).Select(id => Task.Run(() => Worker(id))));

        Assert.Empty(errors);
        Assert.True(lookups > 100, $"only {lookups} lookups ran");
        await using var connection = await OpenAsync();
        Assert.Equal(40, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings WHERE tenant_id = 'stable'"));
        await cache.CleanupAsync();
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM askwealth.query_cache_embeddings WHERE tenant_id = 'capped'") <= 30);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM (SELECT user_message_id FROM askwealth.query_cache_embeddings WHERE user_message_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d"));
    }

    [Fact]
    public async Task Concurrent_identical_misses_compute_the_answer_once()
    {
        var generator = new CountingEmbeddingGenerator();
        await using var provider = Database.BuildServices(generator: generator);
        var cache = provider.GetRequiredService<QueryCacheService>();
        var calls = 0;
        var gate = new TaskCompletionSource();
        async Task<string> Pipeline(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            await gate.Task.WaitAsync(ct);
            return "the answer";
        }

        var askers = Enumerable.Range(0, 20)
            .Select(i => Task.Run(() => cache.GetOrAddAsync(i % 2 == 0 ? "What are the fees?" : "  what are the FEES? ", new CacheScope("t"), Pipeline)))
            .ToList();
        await Task.Delay(500);
        gate.SetResult();
        var answers = await Task.WhenAll(askers);

        Assert.Equal(1, calls);
        Assert.All(answers, a => Assert.Equal("the answer", a.Answer));
        Assert.Equal(1, await CountEntriesAsync());
        var later = await cache.GetOrAddAsync("what are the fees?", new CacheScope("t"), Pipeline);
        Assert.True(later.FromCache);
        Assert.Equal(1, calls);

        // A failed pipeline caches nothing and reaches every waiter.
        var failures = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Assert.ThrowsAsync<InvalidOperationException>(() =>
            cache.GetOrAddAsync("Will this fail?", new CacheScope("t"), async ct => { await Task.Delay(100, ct); throw new InvalidOperationException("pipeline down"); }))));
        Assert.All(failures, f => Assert.Equal("pipeline down", f.Message));
        Assert.Equal(1, await CountEntriesAsync());
    }

    [Fact]
    public async Task A_caller_cancelling_after_the_pipeline_started_leaves_it_running_for_the_other_caller()
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<QueryCacheService>();
        var calls = 0;
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        async Task<string> Pipeline(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            await release.Task.WaitAsync(ct);
            return "the answer";
        }

        using var firstGivesUp = new CancellationTokenSource();
        var first = cache.GetOrAddAsync("What are the fees?", new CacheScope("t"), Pipeline, cancellationToken: firstGivesUp.Token);
        await started.Task;
        var second = cache.GetOrAddAsync("  what are the FEES? ", new CacheScope("t"), Pipeline);
        await Task.Delay(200);
        await firstGivesUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        release.SetResult();
        var answer = await second;
        Assert.Equal("the answer", answer.Answer);
        Assert.False(answer.FromCache);
        Assert.Equal(1, calls);
        Assert.Equal(1, await CountEntriesAsync());
    }

    [Fact]
    public async Task When_every_caller_gives_up_the_shared_pipeline_is_cancelled_and_nothing_is_stored()
    {
        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var cache = provider.GetRequiredService<QueryCacheService>();
        var started = new TaskCompletionSource();
        var pipelineCancelled = new TaskCompletionSource();
        async Task<string> Pipeline(CancellationToken ct)
        {
            started.TrySetResult();
            await using var _ = ct.Register(() => pipelineCancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }

        using var giveUp = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 3).Select(_ => cache.GetOrAddAsync("Slow question?", new CacheScope("t"), Pipeline, cancellationToken: giveUp.Token)).ToList();
        await started.Task;
        await giveUp.CancelAsync();
        foreach (var caller in callers)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        }

        await pipelineCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await CountEntriesAsync());
    }
}
