namespace QueryCache.Correctness;

/// <summary>One labelled outcome: the candidate's features, whether the guard let it through, whether serving it was right.</summary>
internal sealed record LabelledCandidate(double[] Features, bool GuardPassed, bool Right);

/// <summary>
/// The decision learned from labels: a calibrated probability that serving a candidate is right
/// (<see cref="LogisticModel"/> over <see cref="DecisionFeatures"/>), and the lowest probability served — chosen so that
/// the candidates at or above it are expected to be wrong at most the stated rate, by probabilities predicted for labels
/// the fit did not see (inner cross-validation). The lexical guard still refuses what it refuses; the decision chooses
/// among the rest.
/// </summary>
internal sealed record LearnedDecision(LogisticModel Model, double Cutoff, int Labels, int Positives, double ExpectedFalseHitRate)
{
    /// <summary>Fewer labels than this, or fewer of either kind than <see cref="MinimumOfEach"/>, and no decision is learned.</summary>
    public const int MinimumLabels = CacheDecision.MinimumLabels;

    public const int MinimumOfEach = CacheDecision.MinimumOfEachKind;

    public const int Folds = 5;

    /// <summary>Whatever the rate allows, a candidate more likely wrong than right is never served.</summary>
    public const double MinimumProbability = 0.5;

    public bool Serve(double[] features, bool guardPassed) => guardPassed && Model.Probability(features) >= Cutoff;

    /// <summary>
    /// The verdict on one candidate for <paramref name="asked"/>: the guard's refusal (where the tenant has it on), else the
    /// fit's cutoff, else <paramref name="threshold"/> (a floor the caller sets; null for none); and the estimated
    /// probability that serving it is right.
    /// </summary>
    public (CacheMissReason? Refusal, double Probability) Judge(QuestionText asked, QuestionText cached, double similarity, bool guardEnabled,
        IReadOnlyList<string> contrastTerms, double? threshold)
    {
        var signals = LexicalGuard.Signals(asked, cached, contrastTerms);
        var probability = Model.Probability(DecisionFeatures.Of(asked, cached, similarity, signals));
        var refusal = (guardEnabled ? LexicalGuard.FirstReason(signals) : null)
            ?? (probability < Cutoff ? CacheMissReason.DecisionRefused
                : similarity < threshold ? CacheMissReason.BelowThreshold
                : null);
        return (refusal, probability);
    }

    /// <summary>The fit, or null when the labels are too few or all of one kind to learn from.</summary>
    public static LearnedDecision? Fit(IReadOnlyList<LabelledCandidate> labels, double maxFalseHitRate)
    {
        var positives = labels.Count(l => l.Right);
        if (labels.Count < MinimumLabels || positives < MinimumOfEach || labels.Count - positives < MinimumOfEach)
        {
            return null;
        }

        var model = LogisticModel.Fit([.. labels.Select(l => l.Features)], [.. labels.Select(l => l.Right)]);
        var unseen = new double[labels.Count];
        foreach (var (train, test) in StratifiedFolds(labels, Folds))
        {
            var foldModel = LogisticModel.Fit([.. train.Select(i => labels[i].Features)], [.. train.Select(i => labels[i].Right)]);
            foreach (var i in test)
            {
                unseen[i] = foldModel.Probability(labels[i].Features);
            }
        }

        var (cutoff, expected) = ChooseCutoff(labels, unseen, maxFalseHitRate);
        return new LearnedDecision(model, cutoff, labels.Count, positives, expected);
    }

    /// <summary>
    /// The lowest probability whose served set (guard passed, probability at or above it) is expected to be wrong at most
    /// <paramref name="maxFalseHitRate"/>: the mean of 1 − p over that set, with p predicted by fits that did not see the
    /// label (so the estimate is not flattered by the fit's own data), and never below <see cref="MinimumProbability"/>.
    /// Above 1 — nothing served — when no set is.
    /// </summary>
    private static (double Cutoff, double Expected) ChooseCutoff(IReadOnlyList<LabelledCandidate> labels, double[] probabilities, double maxFalseHitRate)
    {
        var served = Enumerable.Range(0, labels.Count).Where(i => labels[i].GuardPassed).Select(i => probabilities[i]).OrderDescending().ToList();
        var (cutoff, expected) = (double.PositiveInfinity, 0.0);
        var expectedWrong = 0.0;
        for (var k = 0; k < served.Count; k++)
        {
            expectedWrong += 1 - served[k];
            var tied = k + 1 < served.Count && served[k + 1] == served[k];
            if (!tied && served[k] >= MinimumProbability && expectedWrong <= maxFalseHitRate * (k + 1))
            {
                (cutoff, expected) = (served[k], expectedWrong / (k + 1));
            }
        }

        return (cutoff, expected);
    }

    /// <summary>k folds with the same share of each label, the same on every run (a fixed shuffle).</summary>
    public static IEnumerable<(List<int> Train, List<int> Test)> StratifiedFolds<T>(IReadOnlyList<T> items, int folds, Func<T, bool>? label = null)
    {
        label ??= item => item is LabelledCandidate c && c.Right;
        var random = new Random(20261207);
        var order = Enumerable.Range(0, items.Count).OrderBy(_ => random.Next()).ToList();
        var fold = new int[items.Count];
        var next = new[] { 0, 0 };
        foreach (var i in order)
        {
            var kind = label(items[i]) ? 1 : 0;
            fold[i] = next[kind]++ % folds;
        }

        for (var f = 0; f < folds; f++)
        {
            yield return ([.. Enumerable.Range(0, items.Count).Where(i => fold[i] != f)], [.. Enumerable.Range(0, items.Count).Where(i => fold[i] == f)]);
        }
    }
}
