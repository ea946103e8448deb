using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>What stands between a close vector and a served answer: guard, verifier and admission, against the real database.</summary>
public sealed class CorrectnessTests(DatabaseFixture database) : DatabaseTest(database)
{
    private const string Cached = "How much are the fees on my account?";
    private const string Asked = "What fees do I pay on my account?";
    private readonly Random _rng = new(101);

    /// <summary>A verifier that answers as told and counts its calls.</summary>
    private sealed class ScriptedVerifier(Func<CacheHitCandidate, CancellationToken, ValueTask<bool>> verdict) : ICacheHitVerifier
    {
        public List<double> Similarities { get; } = [];

        public ValueTask<bool> VerifyAsync(CacheHitCandidate candidate, CancellationToken cancellationToken)
        {
            lock (Similarities)
            {
                Similarities.Add(candidate.Similarity);
            }

            return verdict(candidate, cancellationToken);
        }
    }

    private (ServiceProvider Provider, QueryCacheService Cache) Create(ICacheHitVerifier? verifier = null, Action<QueryCacheOptions>? configure = null)
    {
        var provider = Database.BuildServices(o =>
        {
            o.ExactMatch = false;
            o.VerifierTimeout = TimeSpan.FromMilliseconds(300);
            configure?.Invoke(o);
        }, services: s =>
        {
            if (verifier is not null)
            {
                s.AddSingleton(verifier);
            }
        });
        return (provider, provider.GetRequiredService<QueryCacheService>());
    }

    private async Task<float[]> StoreAsync(QueryCacheService cache, string tenant = "t", string question = Cached)
    {
        var vector = Vectors.Random(_rng);
        Assert.True(await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope(tenant), QueryText = question, Answer = "0.25% a year", Embedding = vector }) > 0);
        return vector;
    }

    private static CacheQuery Query(float[] embedding, string question = Asked, string tenant = "t") =>
        new() { Scope = new CacheScope(tenant), Question = question, Embedding = embedding };

    [Fact]
    public async Task The_verifier_is_asked_only_in_the_grey_zone_and_its_verdict_decides()
    {
        var verdict = true;
        var verifier = new ScriptedVerifier((_, _) => ValueTask.FromResult(verdict));
        var (provider, cache) = Create(verifier);
        await using var _ = provider;
        var stored = await StoreAsync(cache);

        // Sure (at or above VerifyBelowSimilarity 0.95): served without asking.
        Assert.NotNull((await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.97, _rng)))).Hit);
        // Below the threshold: a miss without asking.
        Assert.Equal(CacheMissReason.BelowThreshold, (await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.80, _rng)))).MissReason);
        Assert.Empty(verifier.Similarities);

        // The grey zone: the verifier decides.
        Assert.NotNull((await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.90, _rng)))).Hit);
        verdict = false;
        var rejected = await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.90, _rng)));
        Assert.Null(rejected.Hit);
        Assert.Equal(CacheMissReason.VerifierRejected, rejected.MissReason);
        Assert.Equal(2, verifier.Similarities.Count);
        Assert.All(verifier.Similarities, s => Assert.InRange(s, 0.85, 0.95));

        // Without the question text there is nothing to verify: the threshold alone decides.
        Assert.NotNull(await cache.CheckCacheAsync(Vectors.AtSimilarity(stored, 0.90, _rng), new CacheScope("t")));
        Assert.Equal(2, verifier.Similarities.Count);
    }

    [Fact]
    public async Task A_verifier_that_fails_or_runs_past_its_timeout_makes_a_miss()
    {
        var failing = new ScriptedVerifier((_, _) => throw new HttpRequestException("the judge is down"));
        var (provider, cache) = Create(failing);
        await using (provider)
        {
            var stored = await StoreAsync(cache);
            Assert.Equal(CacheMissReason.VerifierFailed, (await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.9, _rng)))).MissReason);
        }

        var slow = new ScriptedVerifier(async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            return true;
        });
        (provider, cache) = Create(slow);
        await using (provider)
        {
            var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            using var verdicts = new MetricCollector<long>(factory, "QueryCache", "querycache.verifications");
            var stored = await StoreAsync(cache, "slow");
            var watch = Stopwatch.StartNew();
            var result = await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.9, _rng), tenant: "slow"));
            Assert.Equal(CacheMissReason.VerifierFailed, result.MissReason);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the lookup waited {watch.Elapsed} for a verifier with a 300 ms timeout");
            Assert.Equal("timeout", Assert.Single(verdicts.GetMeasurementSnapshot()).Tags["querycache.verdict"]);
        }
    }

    [Fact]
    public async Task A_miss_reports_the_nearest_similarity_and_why_and_the_meter_sees_it()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var lookups = new MetricCollector<long>(factory, "QueryCache", "querycache.lookups");
        using var similarity = new MetricCollector<double>(factory, "QueryCache", "querycache.lookup.similarity");

        Assert.Equal(CacheMissReason.NoEntry, (await cache.LookupAsync(Query(Vectors.Random(_rng)))).MissReason);
        var stored = await StoreAsync(cache);
        var query = Vectors.AtSimilarity(stored, 0.8, _rng);
        var miss = await cache.LookupAsync(Query(query));
        Assert.Null(miss.Hit);
        Assert.Equal(CacheMissReason.BelowThreshold, miss.MissReason);
        Assert.Equal(Vectors.Cosine(query, stored), miss.NearestSimilarity!.Value, 4);
        Assert.Equal(Cached, miss.NearestQueryText);
        Assert.Equal(0.85, miss.Threshold);

        var refused = await cache.LookupAsync(Query(Vectors.AtSimilarity(stored, 0.97, _rng), "How much are the fees on my partner's account?"));
        Assert.Equal(CacheMissReason.GuardPerson, refused.MissReason);
        Assert.True(refused.NearestSimilarity > 0.96);

        Assert.Equal(["no_entry", "below_threshold", "guard_person"],
            lookups.GetMeasurementSnapshot().Select(m => (string)m.Tags["querycache.reason"]!));
        Assert.Equal(2, similarity.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task The_guard_is_switched_per_tenant_and_its_contrast_terms_are_the_tenants()
    {
        var (provider, cache) = Create();
        await using var _ = provider;
        var stored = await StoreAsync(cache, "loose", "What are the fees on the Gold plan?");
        var query = Query(Vectors.AtSimilarity(stored, 0.97, _rng), "What are the fees on the Silver plan?", "loose");

        Assert.NotNull((await cache.LookupAsync(query)).Hit);
        await cache.UpdateConfigAsync(new CacheConfigUpdate { ContrastTerms = ["Gold plan", "Silver plan"] }, "loose");
        Assert.Equal(CacheMissReason.GuardContrastTerm, (await cache.LookupAsync(query)).MissReason);
        Assert.Equal(["Gold plan", "Silver plan"], (await cache.GetConfigAsync("loose")).ContrastTerms);

        var negated = query with { Question = "Aren't there fees on the Gold plan?" };
        Assert.Equal(CacheMissReason.GuardNegation, (await cache.LookupAsync(negated)).MissReason);
        await cache.UpdateConfigAsync(new CacheConfigUpdate { GuardEnabled = false }, "loose");
        Assert.NotNull((await cache.LookupAsync(negated)).Hit);
        Assert.True((await cache.GetConfigAsync()).GuardEnabled, "turning the guard off for one tenant left it on for the others");
    }

    [Fact]
    public async Task The_default_admission_policy_refuses_time_relative_questions_in_live_stores()
    {
        // "current account" is a kind of bank account, not a moment: the sample's domain says so, as a team would.
        var (provider, cache) = Create(configure: o => o.TimeSensitiveExceptions = ["current account"]);
        await using (provider)
        {
            var factory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            using var stores = new MetricCollector<long>(factory, "QueryCache", "querycache.stores");
            foreach (var question in new[] { "What is the FTSE 100 at right now?", "What's the latest ISA rate today?", "How did my fund do this week?" })
            {
                Assert.Equal(0, await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("t"), QueryText = question, Answer = "a", Embedding = Vectors.Random(_rng) }));
            }

            Assert.True(await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("t"), QueryText = "Can I link my current account?", Answer = "Yes", Embedding = Vectors.Random(_rng) }) > 0);
            Assert.Equal(1, await CountEntriesAsync());
            Assert.Equal(["refused", "refused", "refused", "stored"], stores.GetMeasurementSnapshot().Select(m => (string)m.Tags["querycache.result"]!));
            Assert.All(stores.GetMeasurementSnapshot().Take(3), m => Assert.Equal("time_sensitive", m.Tags["querycache.reason"]));
        }

        // Configured to cache them briefly instead.
        (provider, cache) = Create(configure: o => o.TimeSensitiveTimeToLive = TimeSpan.FromMinutes(10));
        await using (provider)
        {
            var id = await cache.AddToCacheAsync(new CacheEntry { Scope = new CacheScope("t"), QueryText = "What's the latest ISA rate today?", Answer = "a", Embedding = Vectors.Random(_rng) });
            await using var connection = await OpenAsync();
            var ttl = await connection.ExecuteScalarAsync<TimeSpan>("SELECT expires_at - created_at FROM askwealth.query_cache_embeddings WHERE id = @id", new { id });
            Assert.InRange(ttl, TimeSpan.FromMinutes(9.9), TimeSpan.FromMinutes(10.1));
        }
    }

    [Fact]
    public async Task The_backfill_skips_what_the_admission_policy_refuses()
    {
        await using (var connection = await OpenAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at) VALUES
                (md5('q1')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'How do ISA transfers work?', '2025-01-01T00:00:00Z'),
                (md5('a1')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'We move the money for you.', '2025-01-01T00:00:01Z'),
                (md5('q2')::uuid, md5('c1')::uuid, 't', 'u', 'user', 'What is the price of gold today?', '2025-01-01T00:00:02Z'),
                (md5('a2')::uuid, md5('c1')::uuid, 't', 'u', 'assistant', 'It was 2,000 dollars an ounce.', '2025-01-01T00:00:03Z')
                """);
        }

        await using var provider = Database.BuildServices(generator: new CountingEmbeddingGenerator());
        var status = await provider.GetRequiredService<QueryCacheService>().PopulateFromExistingAsync(new BackfillRequest());
        Assert.Equal((2L, 1L, 1L), (status.Processed, status.Added, status.Skipped));
        await using (var connection = await OpenAsync())
        {
            Assert.Equal("How do ISA transfers work?", await connection.ExecuteScalarAsync<string>("SELECT query_text FROM askwealth.query_cache_embeddings"));
        }
    }
}
