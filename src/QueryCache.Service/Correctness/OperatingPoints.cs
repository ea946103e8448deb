namespace QueryCache.Correctness;

/// <summary>The learned decision's operating point on labelled pairs it did not learn from.</summary>
internal static class OperatingPoints
{
    /// <summary>Today's decision, where there are too few labels to learn: the default threshold and the guard.</summary>
    public const double FallbackThreshold = QueryCacheSchema.DefaultSimilarityThreshold;

    /// <summary>Each pair judged by a fit on the other folds.</summary>
    public static OperatingPoint CrossValidated(IReadOnlyList<LabelledCandidate> labels, double maxFalseHitRate)
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

    /// <summary>Fitted on <paramref name="train"/>, judged on <paramref name="test"/>.</summary>
    public static OperatingPoint Trained(IReadOnlyList<LabelledCandidate> train, IReadOnlyList<LabelledCandidate> test, double maxFalseHitRate)
    {
        var decision = LearnedDecision.Fit(train, maxFalseHitRate);
        return Point(test, [.. test.Select(l => Serve(decision, l))], decision is not null, crossValidated: false, folds: 0);
    }

    /// <summary>The features in groups, as <see cref="Ablation"/> removes them.</summary>
    public static readonly (string Group, string[] Features)[] FeatureGroups =
    [
        ("similarity", ["similarity", "similarity_above_0_9"]),
        ("guard signals", ["guard_numbers", "guard_negation", "guard_opposite_action", "guard_person", "guard_time", "guard_contrast_term"]),
        ("content words", ["content_overlap", "content_one_side", "content_replaced"]),
        ("word order", ["word_order", "word_pairs", "roles_swapped", "numbers_reordered"]),
        ("length", ["length_ratio"]),
    ];

    /// <summary>What each group of features buys: the cross-validated operating point with the group left out.</summary>
    public static IReadOnlyList<(string Group, OperatingPoint Point)> Ablation(IReadOnlyList<LabelledCandidate> labels, double maxFalseHitRate) =>
    [
        .. FeatureGroups.Select(group =>
        {
            var left = group.Features.Select(f => Array.IndexOf(DecisionFeatures.Names, f)).ToHashSet();
            var without = labels.Select(l => l with { Features = [.. l.Features.Select((v, i) => left.Contains(i) ? 0 : v)] }).ToList();
            return (group.Group, CrossValidated(without, maxFalseHitRate));
        }),
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
    public static double UpperBound95(int failures, int trials)
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
