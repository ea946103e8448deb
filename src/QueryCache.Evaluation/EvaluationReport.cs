namespace QueryCache;

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
    /// <summary>The pair as a label of the learned decision: the second question asked, the first cached.</summary>
    public DecisionLabel Label => new(Pair.QuestionB, Pair.QuestionA, Similarity, Pair.SameAnswer);

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

    /// <summary>The size of its vectors.</summary>
    public int Dimensions { get; init; }

    /// <summary>The contrast terms the guard and the learned decision used.</summary>
    public IReadOnlyList<string> ContrastTerms { get; init; } = [];

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

    /// <summary>What the learned decision serves at the accepted false-hit rate.</summary>
    public required OperatingPoint OperatingPoint { get; init; }

    /// <summary>The best static threshold (with or without the guard) whose false-hit rate is within the bound; null when none is.</summary>
    public StaticBaseline? Baseline { get; init; }
}

/// <summary>The best static decision within a false-hit bound: the threshold with the most recall.</summary>
/// <param name="Threshold">The similarity threshold.</param>
/// <param name="Guard">Whether the lexical guard checks the candidates.</param>
/// <param name="Hits">Pairs served.</param>
/// <param name="FalseHits">Served pairs labelled 0.</param>
/// <param name="FalseHitRate">False hits over hits.</param>
/// <param name="Recall">True hits over the pairs labelled 1.</param>
public sealed record StaticBaseline(double Threshold, bool Guard, int Hits, int FalseHits, double FalseHitRate, double Recall);

/// <summary>A labelled-pairs file is malformed.</summary>
/// <param name="line">The line at fault.</param>
/// <param name="message">What is wrong with it and how to fix it.</param>
public sealed class LabelledPairsFormatException(int line, string message) : FormatException($"line {line}: {message}")
{
    /// <summary>The line at fault (1-based).</summary>
    public int Line { get; } = line;
}
