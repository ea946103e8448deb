using Microsoft.Extensions.AI;
using QueryCache.Correctness;

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

    /// <summary>Embeds every distinct question once (in batches) and scores each threshold with and without the guard.</summary>
    /// <param name="pairs">The labelled pairs.</param>
    /// <param name="generator">The embedding model to evaluate (the one the cache uses).</param>
    /// <param name="model">The model's name, for the report.</param>
    /// <param name="options">The false-hit bound, the contrast terms the guard uses, the batch size.</param>
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

        var questions = pairs.SelectMany(p => new[] { p.QuestionA, p.QuestionB }).Distinct(StringComparer.Ordinal).ToList();
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

        // The first question is the cached one, the second the one asked now.
        var scored = pairs.Select(p => new ScoredPair(p,
            Cosine(vectors[p.QuestionA].Span, vectors[p.QuestionB].Span),
            LexicalGuard.Check(p.QuestionB, p.QuestionA, options.ContrastTerms))).ToList();
        var positives = pairs.Count(p => p.SameAnswer);
        var rows = Thresholds.SelectMany(t => new[] { Score(scored, t, false, positives), Score(scored, t, true, positives) }).ToList();
        return new EvaluationReport
        {
            Model = model,
            Pairs = pairs.Count,
            Positives = positives,
            Negatives = pairs.Count - positives,
            RecommendedThreshold = rows.FirstOrDefault(r => r.Guard && r.Hits > 0 && r.FalseHitRate <= options.MaxFalseHitRate)?.Threshold,
            Rows = rows,
            Scored = scored,
        };
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            normA += a[i] * (double)a[i];
            normB += b[i] * (double)b[i];
        }

        return normA == 0 || normB == 0 ? 0 : dot / Math.Sqrt(normA * normB);
    }

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
    /// <summary>The recommended threshold is the lowest whose false-hit rate (with the guard) is at most this.</summary>
    public double MaxFalseHitRate { get; init; } = 0.01;

    /// <summary>The contrast terms the guard uses, as a tenant would configure them.</summary>
    public IReadOnlyList<string> ContrastTerms { get; init; } = [];

    /// <summary>Questions per embedding call.</summary>
    public int BatchSize { get; init; } = 64;
}

/// <summary>One threshold's figures, with or without the guard.</summary>
/// <param name="Threshold">The similarity threshold.</param>
/// <param name="Guard">Whether the lexical guard checked the candidates.</param>
/// <param name="Hits">Pairs whose second question the cached first one would answer.</param>
/// <param name="TrueHits">Hits labelled 1.</param>
/// <param name="FalseHits">Hits labelled 0: wrong answers served.</param>
/// <param name="Precision">True hits over hits (0 without hits).</param>
/// <param name="Recall">True hits over the pairs labelled 1.</param>
/// <param name="FalseHitRate">False hits over hits (0 without hits).</param>
public sealed record EvaluationRow(double Threshold, bool Guard, int Hits, int TrueHits, int FalseHits, double Precision, double Recall,
    double FalseHitRate);

/// <summary>A pair with its cosine similarity and what the guard said of it.</summary>
/// <param name="Pair">The pair.</param>
/// <param name="Similarity">The cosine similarity of its two questions' embeddings.</param>
/// <param name="GuardRefusal">Why the guard would refuse the cached question for the new one, or null.</param>
public sealed record ScoredPair(LabelledPair Pair, double Similarity, CacheMissReason? GuardRefusal)
{
    /// <summary>Whether the cached question would answer the new one at <paramref name="threshold"/>.</summary>
    /// <param name="threshold">The similarity threshold.</param>
    /// <param name="guard">Whether the guard checks it.</param>
    /// <returns>True on a hit.</returns>
    public bool IsHit(double threshold, bool guard) => Similarity >= threshold && (!guard || GuardRefusal is null);
}

/// <summary>The evaluation's result.</summary>
public sealed record EvaluationReport
{
    /// <summary>The embedding model evaluated.</summary>
    public required string Model { get; init; }

    /// <summary>Pairs evaluated.</summary>
    public required int Pairs { get; init; }

    /// <summary>Pairs labelled 1.</summary>
    public required int Positives { get; init; }

    /// <summary>Pairs labelled 0.</summary>
    public required int Negatives { get; init; }

    /// <summary>The lowest threshold whose false-hit rate with the guard is within the bound, or null when none is.</summary>
    public double? RecommendedThreshold { get; init; }

    /// <summary>Each threshold without, then with, the guard.</summary>
    public required IReadOnlyList<EvaluationRow> Rows { get; init; }

    /// <summary>Each pair's similarity and guard verdict, for slicing by category.</summary>
    public required IReadOnlyList<ScoredPair> Scored { get; init; }
}

/// <summary>A labelled-pairs file is malformed.</summary>
/// <param name="line">The line at fault.</param>
/// <param name="message">What is wrong with it and how to fix it.</param>
public sealed class LabelledPairsFormatException(int line, string message) : FormatException($"line {line}: {message}")
{
    /// <summary>The line at fault (1-based).</summary>
    public int Line { get; } = line;
}
