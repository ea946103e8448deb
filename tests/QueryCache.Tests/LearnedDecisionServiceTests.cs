using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>The learned decision in the cache, against the real database, with the real local model where texts matter.</summary>
public sealed class LearnedDecisionServiceTests(DatabaseFixture database) : DatabaseTest(database)
{
    private static readonly LocalEmbeddingGenerator Model = new();
    private static readonly string ProjectPairs = Path.Combine(AppContext.BaseDirectory, "eval", "askwealth-pairs.csv");

    private static IReadOnlyList<LabelledPair> ReadProjectPairs()
    {
        using var reader = File.OpenText(ProjectPairs);
        return CacheEvaluation.ReadPairs(reader);
    }

    private static async Task<EvaluationReport> ScoreAsync(IReadOnlyList<LabelledPair> pairs, IReadOnlyList<LabelledPair>? train = null, double rate = 0.02) =>
        await CacheEvaluation.EvaluateAsync(pairs, Model, LocalEmbeddingGenerator.ModelName,
            new EvaluationOptions { ContrastTerms = SampleContrastTerms.Wealth, MaxFalseHitRate = rate, TrainPairs = train });

    private ServiceProvider Build(Action<QueryCacheOptions>? configure = null, ICacheHitVerifier? verifier = null) =>
        Database.BuildServices(o =>
        {
            o.MaxFalseHitRate = 0.02;
            configure?.Invoke(o);
        }, Model, s =>
        {
            if (verifier is not null)
            {
                s.AddSingleton(verifier);
            }
        });

    private async Task<long> LabelsAsync(string source) =>
        await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_labels WHERE source = @Source", new { Source = source });

    [Fact]
    public async Task Live_wrong_hits_match_what_evaluate_predicted_for_the_same_pairs()
    {
        // Fit on the odd lines, serve the even ones: each cached question in a tenant of its own.
        var pairs = ReadProjectPairs();
        var train = pairs.Where(p => p.Line % 2 == 1).ToList();
        var test = pairs.Where(p => p.Line % 2 == 0).ToList();
        await using var provider = Build(o => o.ExactMatch = false);
        var cache = provider.GetRequiredService<QueryCacheService>();
        var stored = new List<LabelledPair>();
        foreach (var pair in test)
        {
            var entry = new CacheEntry { Scope = new CacheScope($"pair-{pair.Line}"), QueryText = pair.QuestionA, Answer = "answer to " + pair.QuestionA };
            entry = entry with { Embedding = await Model.GenerateVectorAsync(pair.QuestionA) };
            if (await cache.AddToCacheAsync(entry) > 0)
            {
                stored.Add(pair);
            }
        }

        await cache.AddLabelsAsync((await ScoreAsync(train)).Scored.Select(s => s.Label));
        var decision = await cache.FitDecisionAsync();
        Assert.Equal(CacheDecision.Learned, decision.Mode);
        Assert.Equal(train.Count, decision.Labels);

        var predicted = (await ScoreAsync(stored, train)).OperatingPoint;
        var (hits, falseHits) = (0, 0);
        foreach (var pair in stored)
        {
            var result = await cache.LookupAsync(new CacheQuery { Scope = new CacheScope($"pair-{pair.Line}"), Question = pair.QuestionB });
            if (result.Hit is not null)
            {
                hits++;
                falseHits += pair.SameAnswer ? 0 : 1;
                Assert.NotNull(result.RightProbability);
            }
        }

        Assert.True(predicted.Hits > 20, $"the fit serves only {predicted.Hits} of {stored.Count}");
        // The stored vectors are halfvec: a pair right at the cutoff may fall either side.
        Assert.InRange(hits, predicted.Hits - 3, predicted.Hits + 3);
        Assert.True(falseHits <= Math.Ceiling(predicted.FalseHitRateUpper95 * hits),
            $"{falseHits} wrong of {hits} live; evaluate predicted {predicted.FalseHits} of {predicted.Hits}, at most {predicted.FalseHitRateUpper95:P1}");
    }

    [Fact]
    public async Task Without_labels_the_threshold_and_guard_decide_and_say_so()
    {
        await using var provider = Build();
        var cache = provider.GetRequiredService<QueryCacheService>();
        Assert.Equal(CacheDecision.ThresholdAndGuard, (await cache.GetDecisionAsync()).Mode);
        var fit = await cache.FitDecisionAsync();
        Assert.Equal((CacheDecision.ThresholdAndGuard, 0), (fit.Mode, fit.Labels));

        var scope = new CacheScope("acme");
        await cache.AddToCacheAsync(new CacheEntry
        {
            Scope = scope,
            QueryText = "What fees do you charge on a stocks and shares ISA?",
            Answer = "0.25% a year",
            Embedding = await Model.GenerateVectorAsync("What fees do you charge on a stocks and shares ISA?"),
        });
        var hit = await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "what fees are currently charged on stocks and shares ISAs" });
        Assert.NotNull(hit.Hit);
        Assert.Null(hit.RightProbability);
        var refused = await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "What fees do you charge on a cash ISA?" });
        Assert.Equal(CacheMissReason.GuardContrastTerm, refused.MissReason);
    }

    [Fact]
    public async Task A_hit_reported_wrong_is_not_served_for_that_question_again_and_the_label_changes_the_next_fit()
    {
        await using var provider = Build(o => o.ExactMatch = false);
        var cache = provider.GetRequiredService<QueryCacheService>();
        var scope = new CacheScope("acme", "alice");
        var cached = "How do I transfer my ISA to you?";
        var id = await cache.AddToCacheAsync(new CacheEntry { Scope = scope with { UserId = null }, QueryText = cached, Answer = "Start a transfer in the app.", Embedding = await Model.GenerateVectorAsync(cached) });
        var asked = "How can I move my ISA over to you?";
        var hit = (await cache.LookupAsync(new CacheQuery { Scope = scope, Question = asked })).Hit!;
        Assert.Equal(id, hit.EntryId);

        Assert.True(await cache.ReportAsync(new CacheFeedback { Scope = scope, Question = asked, EntryId = hit.EntryId, Similarity = hit.Similarity, Right = false }));
        var again = await cache.LookupAsync(new CacheQuery { Scope = scope, Question = asked });
        Assert.Null(again.Hit);
        Assert.Equal(CacheMissReason.NoEntry, again.MissReason);
        // Other questions it answers still get it.
        Assert.Equal(id, (await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "How do I transfer my ISA to you please?" })).Hit?.EntryId);
        Assert.Equal(1, await LabelsAsync("feedback"));
        Assert.False(await cache.ReportAsync(new CacheFeedback { Scope = scope, Question = asked, EntryId = id + 1000, Similarity = 0.9, Right = true }));

        // Wrong for its own question: the entry goes.
        Assert.True(await cache.ReportAsync(new CacheFeedback { Scope = scope, Question = cached, EntryId = id, Similarity = 1, Right = false }));
        Assert.Equal(0, await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_embeddings"));

        // A label changes the next fit.
        await cache.AddLabelsAsync((await ScoreAsync(ReadProjectPairs())).Scored.Select(s => s.Label));
        var before = await cache.FitDecisionAsync();
        var id2 = await cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = cached, Answer = "a", Embedding = await Model.GenerateVectorAsync(cached) });
        for (var i = 0; i < 30; i++)
        {
            await cache.ReportAsync(new CacheFeedback { Scope = scope, Question = $"{asked} ({i})", EntryId = id2, Similarity = 0.97, Right = false });
        }

        var after = await cache.FitDecisionAsync();
        Assert.Equal(before.Labels + 30, after.Labels);
        Assert.NotEqual(before.Cutoff, after.Cutoff);
    }

    [Fact]
    public async Task Audits_run_at_the_configured_share_give_the_caller_the_fresh_answer_and_become_labels()
    {
        var judging = new TaskCompletionSource();
        var verifier = new BlockingVerifier(judging.Task);
        await using var provider = Build(o => (o.AuditShare, o.VerifierTimeout) = (0.25, TimeSpan.FromMinutes(1)), verifier);
        var cache = provider.GetRequiredService<QueryCacheService>();
        var scope = new CacheScope("acme");
        const string question = "What fees do you charge on a stocks and shares ISA?";
        await cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = question, Answer = "0.25% a year", Embedding = await Model.GenerateVectorAsync(question) });

        var (audited, pipelineRuns) = (0, 0);
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 200; i++)
        {
            var watch = Stopwatch.StartNew();
            var answer = await cache.GetOrAddAsync(question, scope, _ =>
            {
                pipelineRuns++;
                return Task.FromResult("fresh: 0.25% a year");
            });
            if (!answer.FromCache)
            {
                audited++;
                Assert.Equal("fresh: 0.25% a year", answer.Answer);
                slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            }
        }

        // 50 expected; 4.3 standard deviations either side.
        Assert.InRange(audited, 24, 76);
        Assert.Equal(audited, pipelineRuns);
        // The verifier is still judging: the callers did not wait for it.
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"an audited call took {slowest.TotalMilliseconds:F0} ms");
        Assert.Equal(0, await LabelsAsync("audit"));
        judging.SetResult();
        await Eventually.TrueAsync(async () => await LabelsAsync("audit") == audited);
        Assert.Equal(audited, verifier.FreshAnswers);
    }

    [Fact]
    public async Task The_verifiers_verdicts_become_labels()
    {
        await using var provider = Build(o => (o.MaxFalseHitRate, o.ExactMatch) = (null, false), new ScriptedVerdicts());
        var cache = provider.GetRequiredService<QueryCacheService>();
        var scope = new CacheScope("acme");
        await cache.AddToCacheAsync(new CacheEntry { Scope = scope, QueryText = "How do I transfer my ISA to you?", Answer = "a", Embedding = await Model.GenerateVectorAsync("How do I transfer my ISA to you?") });
        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = 0.5 }, "acme");
        await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "How can I move my ISA over to you?" });
        await cache.LookupAsync(new CacheQuery { Scope = scope, Question = "Could you explain ISA transfers?" });
        await Eventually.TrueAsync(async () => await LabelsAsync("verifier") == 2);
        Assert.Equal(1, await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_labels WHERE is_right"));
    }

    [Fact]
    public async Task A_malformed_label_is_refused_before_any_label_is_written()
    {
        await using var provider = Build();
        var cache = provider.GetRequiredService<QueryCacheService>();
        DecisionLabel Good(int i) => new($"How do I open account {i}?", $"How can I open account {i}?", 0.93, true);
        foreach (var bad in new[] { Good(0) with { Similarity = double.NaN }, Good(0) with { Similarity = 1.5 }, Good(0) with { AskedQuestion = " " },
            Good(0) with { CachedQuestion = new string('x', QueryCacheSchema.MaxQueryTextLength + 1) } })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => cache.AddLabelsAsync([Good(1), Good(2), bad], "acme"));
        }

        Assert.Equal(0, await TestData.ScalarAsync(Database.ConnectionString, "SELECT count(*) FROM askwealth.query_cache_labels"));
        Assert.Equal(2, await cache.AddLabelsAsync([Good(1), Good(2)], "acme"));
    }

    [Fact]
    public async Task A_refused_nearest_entry_does_not_hide_a_right_one_behind_it()
    {
        const string asked = "Can I pay 20 pounds into my pension each month?";
        await using var provider = Build(o => o.ExactMatch = false);
        var cache = provider.GetRequiredService<QueryCacheService>();
        // Labels: the same question at a high similarity was right; another question at a low one was wrong.
        var rng = new Random(7);
        var topics = new[] { "pension", "ISA", "account", "mortgage", "fund", "transfer", "fee", "tax", "bond", "share" };
        var labels = Enumerable.Range(0, 120).Select(i =>
        {
            var a = $"How does the {topics[i % 10]} work for case {i}?";
            return i % 2 == 0
                ? new DecisionLabel(a, a, 0.95 + (rng.NextDouble() * 0.05), true)
                : new DecisionLabel($"Where is the {topics[(i + 3) % 10]} office {i}?", a, 0.3 + (rng.NextDouble() * 0.3), false);
        });
        await cache.AddLabelsAsync(labels, "acme");
        var fit = await cache.FitDecisionAsync("acme");
        Assert.Equal((CacheDecision.Learned, "acme", 120), (fit.Mode, fit.FittedFor, fit.Labels));
        // Another tenant has no labels of its own, and there is no global fit: threshold and guard decide there.
        Assert.Equal(CacheDecision.ThresholdAndGuard, (await cache.GetDecisionAsync("globex")).Mode);

        var rngVectors = new Random(3);
        var query = Vectors.Random(rngVectors);
        await TestData.InsertEntriesAsync(Database.ConnectionString,
        [
            new SeedEntry("acme", null, Vectors.AtSimilarity(query, 0.99, rngVectors), "Can I pay 30 pounds into my pension each month?", "no"),
            new SeedEntry("acme", null, Vectors.AtSimilarity(query, 0.97, rngVectors), asked, "yes"),
        ]);
        var lookup = new CacheQuery { Scope = new CacheScope("acme"), Question = asked, Embedding = query };
        var served = await cache.LookupAsync(lookup);
        Assert.Equal("yes", served.Hit?.Answer);
        Assert.True(served.RightProbability > 0.9);

        await using var nearestOnly = Build(o => (o.ExactMatch, o.DecisionCandidates) = (false, 1));
        var missed = await nearestOnly.GetRequiredService<QueryCacheService>().LookupAsync(lookup);
        Assert.Null(missed.Hit);
        Assert.Equal(CacheMissReason.GuardNumbers, missed.MissReason);
    }

    /// <summary>Says yes to the first candidate it is asked about and no to the rest.</summary>
    private sealed class ScriptedVerdicts : ICacheHitVerifier
    {
        private int _calls;

        public ValueTask<bool> VerifyAsync(CacheHitCandidate candidate, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Interlocked.Increment(ref _calls) == 1);
    }

    /// <summary>Judges audits only once released, and counts the fresh answers it was shown.</summary>
    private sealed class BlockingVerifier(Task release) : ICacheHitVerifier
    {
        private int _fresh;

        public int FreshAnswers => _fresh;

        public async ValueTask<bool> VerifyAsync(CacheHitCandidate candidate, CancellationToken cancellationToken)
        {
            if (candidate.FreshAnswer is not null)
            {
                Interlocked.Increment(ref _fresh);
                await release.WaitAsync(cancellationToken);
            }

            return true;
        }
    }
}
