using QueryCache.Correctness;

namespace QueryCache;

/// <summary>
/// The decision the cache serves with (<see cref="QueryCacheOptions.MaxFalseHitRate"/>), offered for offline evaluation:
/// what the lexical guard says of a pair, and what a decision learned from labels serves on labels it did not learn
/// from. The fit and the features are the ones <see cref="IQueryCacheService.FitDecisionAsync"/> uses.
/// </summary>
public static class CacheDecisionModel
{
    /// <summary>Today's decision, where there are too few labels to learn: the default threshold and the guard.</summary>
    private const double FallbackThreshold = QueryCacheSchema.DefaultSimilarityThreshold;

    /// <summary>Why the lexical guard refuses the answer cached for <paramref name="cached"/> for <paramref name="asked"/>, or null.</summary>
    /// <param name="asked">The question asked now.</param>
    /// <param name="cached">The cached question.</param>
    /// <param name="contrastTerms">The tenant's contrast terms.</param>
    /// <returns>The refusal, or null when the guard lets the candidate through.</returns>
    public static CacheMissReason? GuardRefusal(string asked, string cached, IReadOnlyList<string>? contrastTerms = null)
    {
        ArgumentNullException.ThrowIfNull(asked);
        ArgumentNullException.ThrowIfNull(cached);
        return LexicalGuard.Check(asked, cached, contrastTerms ?? []);
    }

    /// <summary>Each label judged by a decision fitted on the other folds (stratified, the same on every run).</summary>
    /// <param name="labels">The labels.</param>
    /// <param name="maxFalseHitRate">The false-hit rate accepted, in [0, 1].</param>
    /// <param name="contrastTerms">The contrast terms the guard and the features use.</param>
    /// <returns>What the decision serves, and how often wrongly.</returns>
    public static OperatingPoint CrossValidate(IReadOnlyList<DecisionLabel> labels, double maxFalseHitRate, IReadOnlyList<string>? contrastTerms = null) =>
        CrossValidated(Candidates(labels, contrastTerms), Rate(maxFalseHitRate));

    /// <summary>A decision fitted on <paramref name="train"/>, judged on <paramref name="test"/>.</summary>
    /// <param name="train">The labels to learn from.</param>
    /// <param name="test">The labels to judge it on.</param>
    /// <param name="maxFalseHitRate">The false-hit rate accepted, in [0, 1].</param>
    /// <param name="contrastTerms">The contrast terms the guard and the features use.</param>
    /// <returns>What the decision serves of <paramref name="test"/>, and how often wrongly.</returns>
    public static OperatingPoint Test(IReadOnlyList<DecisionLabel> train, IReadOnlyList<DecisionLabel> test, double maxFalseHitRate,
        IReadOnlyList<string>? contrastTerms = null)
    {
        var testing = Candidates(test, contrastTerms);
        var decision = LearnedDecision.Fit(Candidates(train, contrastTerms), Rate(maxFalseHitRate));
        return Point(testing, [.. testing.Select(l => Serve(decision, l))], decision is not null, crossValidated: false, folds: 0);
    }

    /// <summary>
    /// What each group of features buys: the cross-validated operating point with the group left out (similarity, guard
    /// signals, content words, word order, length).
    /// </summary>
    /// <param name="labels">The labels.</param>
    /// <param name="maxFalseHitRate">The false-hit rate accepted, in [0, 1].</param>
    /// <param name="contrastTerms">The contrast terms the guard and the features use.</param>
    /// <returns>One operating point per group, in that order.</returns>
    public static IReadOnlyList<FeatureAblation> Ablate(IReadOnlyList<DecisionLabel> labels, double maxFalseHitRate, IReadOnlyList<string>? contrastTerms = null)
    {
        var candidates = Candidates(labels, contrastTerms);
        var rate = Rate(maxFalseHitRate);
        return
        [
            .. FeatureGroups.Select(group =>
            {
                var left = group.Features.Select(f => Array.IndexOf(DecisionFeatures.Names, f)).ToHashSet();
                var without = candidates.Select(l => l with { Features = [.. l.Features.Select((v, i) => left.Contains(i) ? 0 : v)] }).ToList();
                return new FeatureAblation(group.Group, CrossValidated(without, rate));
            }),
        ];
    }

    private static List<LabelledCandidate> Candidates(IReadOnlyList<DecisionLabel> labels, IReadOnlyList<string>? contrastTerms)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var terms = contrastTerms ?? [];
        return [.. labels.Select(l => new LabelledCandidate(DecisionFeatures.Of(l.AskedQuestion, l.CachedQuestion, l.Similarity, terms),
            LexicalGuard.Check(l.AskedQuestion, l.CachedQuestion, terms) is null, l.SameAnswer))];
    }

    private static double Rate(double maxFalseHitRate) => maxFalseHitRate is >= 0 and <= 1
        ? maxFalseHitRate
        : throw new ArgumentOutOfRangeException(nameof(maxFalseHitRate), maxFalseHitRate, "The false-hit rate accepted is a share from 0 to 1, e.g. 0.02 for 2 %.");

    private static OperatingPoint CrossValidated(List<LabelledCandidate> labels, double maxFalseHitRate)
    {
        var served = new bool[labels.Count];
        var learned = false;
        foreach (var (train, test) in LearnedDecision.StratifiedFolds(labels, LearnedDecision.Folds))
        {
            var decision = LearnedDecision.Fit([.. train.Select(i => labels[i])], maxFalseHitRate);
            learned |= decision is not null;
            foreach (var i in test)
            {
                served[i] = Serve(decision, labels[i]);
            }
        }

        return Point(labels, served, learned, crossValidated: true, LearnedDecision.Folds);
    }

    /// <summary>The features in groups, as <see cref="Ablate"/> removes them.</summary>
    private static readonly (string Group, string[] Features)[] FeatureGroups =
    [
        ("similarity", ["similarity", "similarity_above_0_9"]),
        ("guard signals", ["guard_numbers", "guard_negation", "guard_opposite_action", "guard_person", "guard_time", "guard_contrast_term"]),
        ("content words", ["content_overlap", "content_one_side", "content_replaced"]),
        ("word order", ["word_order", "word_pairs", "roles_swapped", "numbers_reordered"]),
        ("length", ["length_ratio"]),
    ];

    private static readonly int SimilarityFeature = Array.IndexOf(DecisionFeatures.Names, "similarity");

    private static bool Serve(LearnedDecision? decision, LabelledCandidate label) =>
        decision?.Serve(label.Features, label.GuardPassed) ?? (label.GuardPassed && label.Features[SimilarityFeature] >= FallbackThreshold);

    private static OperatingPoint Point(IReadOnlyList<LabelledCandidate> labels, bool[] served, bool learned, bool crossValidated, int folds)
    {
        var hits = served.Count(s => s);
        var falseHits = labels.Where((l, i) => served[i] && !l.Right).Count();
        var positives = labels.Count(l => l.Right);
        return new OperatingPoint(learned ? "learned" : "threshold_guard", hits, falseHits,
            hits == 0 ? 0 : Math.Round((double)falseHits / hits, 4),
            Math.Round(UpperBound95(falseHits, hits), 4),
            positives == 0 ? 0 : Math.Round((double)(hits - falseHits) / positives, 4),
            crossValidated, folds);
    }

    /// <summary>Clopper–Pearson: the rate p at which seeing at most <paramref name="failures"/> in <paramref name="trials"/> has probability 5 %.</summary>
    internal static double UpperBound95(int failures, int trials)
    {
        if (trials == 0 || failures >= trials)
        {
            return 1;
        }

        double low = (double)failures / trials, high = 1;
        for (var i = 0; i < 60; i++)
        {
            var mid = (low + high) / 2;
            (BinomialCdf(failures, trials, mid) > 0.05 ? ref low : ref high) = mid;
        }

        return high;
    }

    private static double BinomialCdf(int k, int n, double p)
    {
        var logP = Math.Log(p);
        var logQ = Math.Log(1 - p);
        var sum = 0.0;
        var logChoose = 0.0;
        for (var i = 0; i <= k; i++)
        {
            if (i > 0)
            {
                logChoose += Math.Log(n - i + 1) - Math.Log(i);
            }

            sum += Math.Exp(logChoose + (i * logP) + ((n - i) * logQ));
        }

        return sum;
    }
}

/// <summary>A candidate judged by someone: was the answer cached for <see cref="CachedQuestion"/> right for <see cref="AskedQuestion"/>?</summary>
/// <param name="AskedQuestion">The question asked.</param>
/// <param name="CachedQuestion">The cached question whose answer would be served.</param>
/// <param name="Similarity">The cosine similarity of the two questions' embeddings.</param>
/// <param name="SameAnswer">True when the cached answer is right for the asked question too.</param>
public sealed record DecisionLabel(string AskedQuestion, string CachedQuestion, double Similarity, bool SameAnswer);

/// <summary>What a decision serves on labelled pairs it did not learn from.</summary>
/// <param name="Mode"><c>learned</c>, or <c>threshold_guard</c> when too few labels to learn from (today's decision at 0.85).</param>
/// <param name="Hits">Pairs served.</param>
/// <param name="FalseHits">Served pairs labelled 0.</param>
/// <param name="FalseHitRate">False hits over hits (0 without hits).</param>
/// <param name="FalseHitRateUpper95">The one-sided 95 % upper bound of the false-hit rate (Clopper–Pearson); 1 without hits.</param>
/// <param name="Recall">True hits over the pairs labelled 1.</param>
/// <param name="CrossValidated">True when each pair was judged by a fit that never saw it, within the same file.</param>
/// <param name="Folds">The folds of the cross-validation; 0 when fitted on other pairs.</param>
public sealed record OperatingPoint(string Mode, int Hits, int FalseHits, double FalseHitRate, double FalseHitRateUpper95, double Recall,
    bool CrossValidated, int Folds);

/// <summary>The learned decision's operating point with one group of features left out.</summary>
/// <param name="Group">The group left out.</param>
/// <param name="Point">What the decision serves without it.</param>
public sealed record FeatureAblation(string Group, OperatingPoint Point);
