using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace QueryCache;

/// <summary>
/// Measures how often a threshold would serve a wrong answer: for labelled question pairs (was the answer cached for
/// the first one right for the second?), embeds both sides and reports, for thresholds 0.70 to 0.99 with and without the
/// lexical guard, the hits, true and false hits, precision, recall and the false-hit rate among hits; and recommends the
/// lowest threshold whose false-hit rate with the guard stays within a bound.
/// </summary>
public static class CacheEvaluation
{
    /// <summary>The thresholds reported: 0.70, 0.71 … 0.99.</summary>
    public static IReadOnlyList<double> Thresholds { get; } = Enumerable.Range(70, 30).Select(t => t / 100.0).ToArray();

    /// <summary>Reads CSV <c>question_a,question_b,label,category</c> (a header line is optional; RFC 4180 quoting).</summary>
    /// <param name="reader">The file's text.</param>
    /// <returns>The pairs, each with its line number.</returns>
    /// <exception cref="LabelledPairsFormatException">A line is malformed; nothing was read past it.</exception>
    public static IReadOnlyList<LabelledPair> ReadPairs(TextReader reader) => LabelledPairsCsv.Read(reader);

    /// <summary>
    /// Embeds every distinct question once (in batches) and scores each threshold with and without the guard; then the
    /// learned decision's operating point at <see cref="EvaluationOptions.MaxFalseHitRate"/>: fitted on
    /// <see cref="EvaluationOptions.TrainPairs"/> when given, else cross-validated within <paramref name="pairs"/> (each
    /// pair judged by a fit that never saw it); and the best static threshold at the same rate, for comparison.
    /// </summary>
    /// <param name="pairs">The labelled pairs.</param>
    /// <param name="generator">The embedding model to evaluate (the one the cache uses).</param>
    /// <param name="model">The model's name, for the report.</param>
    /// <param name="options">The false-hit bound, the contrast terms the guard uses, the batch size, training pairs.</param>
    /// <param name="progress">Receives how many questions are embedded so far, out of how many.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>The report.</returns>
    public static async Task<EvaluationReport> EvaluateAsync(IReadOnlyList<LabelledPair> pairs, IEmbeddingGenerator<string, Embedding<float>> generator,
        string model, EvaluationOptions? options = null, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(generator);
        options ??= new EvaluationOptions();
        if (pairs.Count == 0)
        {
            throw new ArgumentException("There are no pairs to evaluate; give a file with at least one labelled pair.", nameof(pairs));
        }

        var train = options.TrainPairs ?? [];
        var questions = pairs.Concat(train).SelectMany(p => new[] { p.QuestionA, p.QuestionB }).Distinct(StringComparer.Ordinal).ToList();
        var vectors = new Dictionary<string, ReadOnlyMemory<float>>(StringComparer.Ordinal);
        foreach (var batch in questions.Chunk(Math.Max(1, options.BatchSize)))
        {
            var embeddings = await generator.GenerateAsync(batch, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                vectors[batch[i]] = embeddings[i].Vector;
            }

            progress?.Report((vectors.Count, questions.Count));
        }

        var scored = Score(pairs, vectors, options.ContrastTerms);
        var positives = pairs.Count(p => p.SameAnswer);
        var rows = Thresholds.SelectMany(t => new[] { Score(scored, t, false, positives), Score(scored, t, true, positives) }).ToList();
        var labels = scored.Select(s => s.Label).ToList();
        return new EvaluationReport
        {
            Model = model,
            Dimensions = vectors.Values.First().Length,
            Pairs = pairs.Count,
            Positives = positives,
            Negatives = pairs.Count - positives,
            RecommendedThreshold = rows.FirstOrDefault(r => r.Guard && r.Hits > 0 && r.FalseHitRate <= options.MaxFalseHitRate)?.Threshold,
            Rows = rows,
            Scored = scored,
            ContrastTerms = options.ContrastTerms,
            OperatingPoint = train.Count > 0
                ? CacheDecisionModel.Test([.. Score(train, vectors, options.ContrastTerms).Select(s => s.Label)], labels, options.MaxFalseHitRate, options.ContrastTerms)
                : CacheDecisionModel.CrossValidate(labels, options.MaxFalseHitRate, options.ContrastTerms),
            Baseline = rows.Where(r => r.Hits > 0 && r.FalseHitRate <= options.MaxFalseHitRate)
                .OrderByDescending(r => r.Recall).ThenBy(r => r.Threshold).Select(r => new StaticBaseline(r.Threshold, r.Guard, r.Hits, r.FalseHits,
                    r.FalseHitRate, r.Recall)).FirstOrDefault(),
        };
    }

    /// <summary>
    /// What each group of the learned decision's features buys: its cross-validated operating point on the report's
    /// pairs with the group left out (similarity, guard signals, content words, word order, length).
    /// </summary>
    /// <param name="report">A report of <see cref="EvaluateAsync"/>.</param>
    /// <param name="maxFalseHitRate">The false-hit rate accepted.</param>
    /// <returns>One operating point per group, in that order.</returns>
    public static IReadOnlyList<FeatureAblation> Ablate(EvaluationReport report, double maxFalseHitRate)
    {
        ArgumentNullException.ThrowIfNull(report);
        return CacheDecisionModel.Ablate([.. report.Scored.Select(s => s.Label)], maxFalseHitRate, report.ContrastTerms);
    }

    /// <summary>The first question is the cached one, the second the one asked now.</summary>
    private static List<ScoredPair> Score(IReadOnlyList<LabelledPair> pairs, Dictionary<string, ReadOnlyMemory<float>> vectors, IReadOnlyList<string> terms) =>
    [
        .. pairs.Select(p =>
        {
            var similarity = TensorPrimitives.CosineSimilarity(vectors[p.QuestionA].Span, vectors[p.QuestionB].Span);
            return new ScoredPair(p, similarity, CacheDecisionModel.GuardRefusal(p.QuestionB, p.QuestionA, terms));
        }),
    ];

    private static EvaluationRow Score(List<ScoredPair> scored, double threshold, bool guard, int positives)
    {
        var hits = scored.Where(s => s.IsHit(threshold, guard)).ToList();
        var trueHits = hits.Count(s => s.Pair.SameAnswer);
        var falseHits = hits.Count - trueHits;
        return new EvaluationRow(threshold, guard, hits.Count, trueHits, falseHits,
            Precision: hits.Count == 0 ? 0 : Math.Round((double)trueHits / hits.Count, 4),
            Recall: positives == 0 ? 0 : Math.Round((double)trueHits / positives, 4),
            FalseHitRate: hits.Count == 0 ? 0 : Math.Round((double)falseHits / hits.Count, 4));
    }
}

/// <summary>A labelled pair: was the answer cached for <see cref="QuestionA"/> right for <see cref="QuestionB"/>?</summary>
/// <param name="QuestionA">The cached question.</param>
/// <param name="QuestionB">The question asked later.</param>
/// <param name="SameAnswer">Label 1: the cached answer is right for the second question too; label 0: it is not.</param>
/// <param name="Category">What kind of pair it is (paraphrase, negation, number...).</param>
/// <param name="Line">Its line in the file.</param>
public sealed record LabelledPair(string QuestionA, string QuestionB, bool SameAnswer, string Category, int Line = 0);

/// <summary>What the evaluation is asked to do.</summary>
public sealed record EvaluationOptions
{
    /// <summary>
    /// The false-hit rate accepted: the recommended threshold is the lowest whose rate (with the guard) is at most this,
    /// and the learned decision's operating point and the static baseline are chosen for it.
    /// </summary>
    public double MaxFalseHitRate { get; init; } = 0.01;

    /// <summary>The contrast terms the guard uses, as a tenant would configure them.</summary>
    public IReadOnlyList<string> ContrastTerms { get; init; } = [];

    /// <summary>Questions per embedding call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Pairs to fit the learned decision on; null to cross-validate it within the evaluated pairs.</summary>
    public IReadOnlyList<LabelledPair>? TrainPairs { get; init; }
}

