using QueryCache.Tests.Infrastructure;
using QueryCache.Correctness;

namespace QueryCache.Tests;

/// <summary>The learned decision's parts, without a database: the fit, the cutoff, the features, the bound.</summary>
public sealed class LearnedDecisionTests
{
    /// <summary>Labels drawn from a known logistic model of two features.</summary>
    private static List<LabelledCandidate> Synthetic(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            double[] x = [rng.NextDouble(), rng.NextDouble()];
            var p = 1 / (1 + Math.Exp(-((8 * x[0]) - (4 * x[1]) - 2)));
            return new LabelledCandidate(x, GuardPassed: true, Right: rng.NextDouble() < p);
        })];
    }

    [Fact]
    public void The_fit_recovers_a_known_model_and_its_probabilities_are_calibrated()
    {
        var labels = Synthetic(4000, 1);
        var model = LogisticModel.Fit([.. labels.Select(l => l.Features)], [.. labels.Select(l => l.Right)], penalty: 0.01);
        var unstandardized = model.Weights.Select((w, i) => w / model.Scales[i]).ToArray();
        Assert.InRange(unstandardized[0], 7.0, 9.0);
        Assert.InRange(unstandardized[1], -5.0, -3.0);

        // In each decile of predicted probability, the share that was right is close to the prediction.
        var test = Synthetic(4000, 2);
        foreach (var bin in test.GroupBy(l => Math.Min(9, (int)(model.Probability(l.Features) * 10))).Where(g => g.Count() > 200))
        {
            var predicted = bin.Average(l => model.Probability(l.Features));
            var observed = bin.Average(l => l.Right ? 1.0 : 0.0);
            Assert.True(Math.Abs(predicted - observed) < 0.06, $"decile {bin.Key}: predicted {predicted:F3}, observed {observed:F3}");
        }
    }

    [Fact]
    public void What_the_fit_serves_on_unseen_labels_is_wrong_at_about_the_stated_rate_or_less()
    {
        var decision = LearnedDecision.Fit(Synthetic(3000, 3), maxFalseHitRate: 0.05)!;
        Assert.InRange(decision.ExpectedFalseHitRate, 0.0, 0.05);
        var served = Synthetic(20000, 4).Where(l => decision.Serve(l.Features, l.GuardPassed)).ToList();
        Assert.True(served.Count > 1000, $"{served.Count} served");
        var rate = served.Count(l => !l.Right) / (double)served.Count;
        Assert.True(rate <= 0.06, $"false-hit rate {rate:P2} on unseen labels");

        // The guard's refusal stands whatever the probability.
        Assert.False(decision.Serve([1.0, 0.0], guardPassed: false));
        Assert.True(decision.Serve([1.0, 0.0], guardPassed: true));
    }

    [Fact]
    public void Too_few_labels_or_labels_of_one_kind_learn_nothing()
    {
        Assert.Null(LearnedDecision.Fit(Synthetic(LearnedDecision.MinimumLabels - 1, 5), 0.05));
        Assert.Null(LearnedDecision.Fit([.. Synthetic(500, 6).Select(l => l with { Right = true })], 0.05));
        Assert.NotNull(LearnedDecision.Fit(Synthetic(200, 7), 0.05));
    }

    [Theory]
    [InlineData(0, 10, 0.2589)]
    [InlineData(1, 100, 0.0466)]
    [InlineData(5, 100, 0.1023)]
    [InlineData(0, 0, 1.0)]
    public void The_upper_bound_is_clopper_pearsons(int failures, int trials, double expected) =>
        Assert.Equal(expected, CacheDecisionModel.UpperBound95(failures, trials), 3);

    [Theory]
    [InlineData("convert Markdown to HTML", "convert HTML to Markdown", "roles_swapped", 1)]
    [InlineData("convert Markdown to HTML", "how do I convert Markdown into HTML", "roles_swapped", 0)]
    [InlineData("He was picked 7th in round 77", "He was picked 77th in round 7", "numbers_reordered", 1)]
    [InlineData("Can I put £15,000 in my ISA?", "Can I put £16,000 in my ISA?", "guard_numbers", 1)]
    [InlineData("How do I open an ISA?", "How do I close an ISA?", "guard_opposite_action", 1)]
    [InlineData("What fees do you charge?", "What fees do you charge?", "content_overlap", 1)]
    public void Features_see_what_the_words_show(string asked, string cached, string feature, double expected)
    {
        var features = DecisionFeatures.Of(asked, cached, 0.9, SampleContrastTerms.Wealth);
        Assert.Equal(DecisionFeatures.Count, features.Length);
        Assert.Equal(expected, features[Array.IndexOf(DecisionFeatures.Names, feature)], 6);
    }
}
