using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Bench;

/// <summary>
/// The time to an answer from the cache, text in, with the local model: the embedding alone, the lookup alone (its
/// embedding given), and the whole lookup (exact path, embedding, vector search, decision), one question at a time, the
/// order rotating, then four concurrent callers; and exact hits from the database and from the in-process tier. The
/// project's questions are the cached and asked ones, in a tenant of 45% of a synthetic table of the size asked.
/// </summary>
internal static class AnswerTimeRun
{
    private const string Database = "querycache_bench_answer_time";

    public static async Task<Dictionary<string, object>> RunAsync(BenchSettings settings, string pairsFile, int entries)
    {
        using var reader = File.OpenText(pairsFile);
        var pairs = CacheEvaluation.ReadPairs(reader);
        var cached = pairs.Select(p => p.QuestionA).Distinct().ToArray();
        var asked = pairs.Select(p => p.QuestionB).Distinct().Except(cached).ToArray();
        var figures = new Dictionary<string, object> { ["entries"] = entries, ["cached_questions"] = cached.Length, ["asked_questions"] = asked.Length };

        var data = Data.Generate(entries, settings.Dimensions, queries: 0);
        var connectionString = await BenchDatabase.CreateLoadedAsync(settings, Database, data, entries);

        var scope = new CacheScope(data.Tenants[Data.LargeTenant]);
        await using (var provider = Services(settings, connectionString, tier: false))
        {
            var cache = provider.GetRequiredService<QueryCacheService>();
            var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
            foreach (var question in cached)
            {
                await cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = question, Answer = $"answer to {question}" });
            }

            var vectors = new Dictionary<string, ReadOnlyMemory<float>>();
            foreach (var question in asked)
            {
                vectors[question] = (await generator.GenerateAsync([question]))[0].Vector;
            }

            var times = new double[asked.Length, 3];
            var hits = 0;
            for (var k = 0; k < asked.Length; k++)
            {
                var question = asked[k];
                for (var step = 0; step < 3; step++)
                {
                    switch ((k + step) % 3)
                    {
                        case 0:
                            times[k, 0] = await Measure.TimeAsync(() => generator.GenerateAsync([question]));
                            break;
                        case 1:
                            times[k, 1] = await Measure.TimeAsync(() => cache.CheckCacheAsync(vectors[question], scope));
                            break;
                        default:
                            times[k, 2] = await Measure.TimeAsync(async () => hits += (await cache.LookupAsync(new CacheQuery { Scope = scope, Question = question })).Hit is null ? 0 : 1);
                            break;
                    }
                }
            }

            double P(int which, double percentile) => Measure.Percentile(Enumerable.Range(0, asked.Length).Select(k => times[k, which]), percentile);
            figures["embedding_c1_p50_ms"] = P(0, 50);
            figures["lookup_given_embedding_c1_p50_ms"] = P(1, 50);
            figures["answer_time_c1_p50_ms"] = P(2, 50);
            figures["answer_time_c1_p99_ms"] = P(2, 99);
            figures["answer_time_hits"] = hits;
            figures["ratio_answer_time_over_sum_p50"] = Math.Round(P(2, 50) / (P(0, 50) + P(1, 50)), 2);

            var (latencies, perSecond) = await Measure.ConcurrentAsync(4, asked.Length * 2, () => Task.FromResult<(Func<int, Task>, IAsyncDisposable)>(
                (k => cache.LookupAsync(new CacheQuery { Scope = scope, Question = asked[k % asked.Length] }), NoResources.Instance)));
            figures["answer_time_c4_p50_ms"] = Measure.Percentile(latencies, 50);
            figures["answer_time_c4_p99_ms"] = Measure.Percentile(latencies, 99);
            figures["answer_time_c4_per_s"] = perSecond;
            figures["exact_hit_database_p50_ms"] = await ExactHitsP50Async(cache, scope, cached);
        }

        await using (var provider = Services(settings, connectionString, tier: true))
        {
            var cache = provider.GetRequiredService<QueryCacheService>();
            await ExactHitsP50Async(cache, scope, cached);
            figures["exact_hit_memory_p50_ms"] = await ExactHitsP50Async(cache, scope, cached);
        }

        if (!settings.Keep)
        {
            await BenchDatabase.DropAsync(settings, Database);
        }

        return figures;
    }

    private static async Task<double> ExactHitsP50Async(QueryCacheService cache, CacheScope scope, string[] questions)
    {
        var times = new List<double>();
        foreach (var question in questions)
        {
            times.Add(await Measure.TimeAsync(() => cache.LookupAsync(new CacheQuery { Scope = scope, Question = question })));
        }

        return Measure.Percentile(times, 50);
    }

    private static ServiceProvider Services(BenchSettings settings, string connectionString, bool tier) =>
        BenchDatabase.Services(settings, connectionString, o => o.LocalTierSize = tier ? 10_000 : 0,
            services => services.AddQueryCacheLocalEmbeddings());
}
