namespace QueryCache.Bench;

/// <summary>
/// Whether a prefix graph finds what the whole embedding finds, with the local model, on labelled question files: each
/// file's distinct questions embedded, each first question of a pair asked of all the others, its nearest by every
/// dimension against its nearest among the <see cref="RerankedCandidates"/> nearest by the first N dimensions, re-ranked
/// by every dimension (what the lookup does on a prefix graph, with an exact walk). No database.
/// </summary>
internal static class PrefixRecallRun
{
    private const int RerankedCandidates = 40;

    public static async Task<Dictionary<string, object>> RunAsync(IReadOnlyList<string> pairsFiles, int[] prefixes, CancellationToken cancellationToken)
    {
        var figures = new Dictionary<string, object>();
        using var generator = new LocalEmbeddingGenerator();
        foreach (var file in pairsFiles)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            using var reader = File.OpenText(file);
            var pairs = CacheEvaluation.ReadPairs(reader).ToList();
            var questions = pairs.SelectMany(p => new[] { p.QuestionA, p.QuestionB }).Distinct().ToArray();
            // The generator batches the questions itself.
            var vectors = (await generator.GenerateAsync(questions, cancellationToken: cancellationToken)).Select(e => e.Vector.ToArray()).ToArray();

            var index = questions.Select((q, i) => (q, i)).ToDictionary(x => x.q, x => x.i);
            var asked = pairs.Select(p => index[p.QuestionA]).Distinct().ToArray();
            figures[$"{name}_questions"] = questions.Length;
            figures[$"{name}_asked"] = asked.Length;
            var exact = asked.AsParallel().AsOrdered().Select(a => Nearest(vectors, a, Enumerable.Range(0, vectors.Length), vectors[a].Length)).ToArray();
            foreach (var prefix in prefixes)
            {
                var viaPrefix = asked.AsParallel().AsOrdered().Select(a =>
                {
                    var candidates = Enumerable.Range(0, vectors.Length).Where(i => i != a)
                        .OrderByDescending(i => Cosine(vectors[a], vectors[i], prefix)).Take(RerankedCandidates);
                    return Nearest(vectors, a, candidates, vectors[a].Length);
                }).ToArray();
                figures[$"{name}_prefix{prefix}_same_nearest_pct"] = Math.Round(100.0 * exact.Zip(viaPrefix).Count(p => p.First.Entry == p.Second.Entry) / asked.Length, 2);
                figures[$"{name}_prefix{prefix}_same_decision_at_0.85_pct"] = Math.Round(100.0 * exact.Zip(viaPrefix)
                    .Count(p => (p.First.Similarity >= QueryCacheSchema.DefaultSimilarityThreshold) == (p.Second.Similarity >= QueryCacheSchema.DefaultSimilarityThreshold)) / asked.Length, 2);
            }
        }

        return figures;
    }

    private static (int Entry, double Similarity) Nearest(float[][] vectors, int asked, IEnumerable<int> candidates, int dimensions)
    {
        var (best, similarity) = (-1, double.MinValue);
        foreach (var i in candidates)
        {
            if (i != asked && Cosine(vectors[asked], vectors[i], dimensions) is var s && s > similarity)
            {
                (best, similarity) = (i, s);
            }
        }

        return (best, similarity);
    }

    private static double Cosine(float[] a, float[] b, int dimensions) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a.AsSpan(0, dimensions), b.AsSpan(0, dimensions));
}
