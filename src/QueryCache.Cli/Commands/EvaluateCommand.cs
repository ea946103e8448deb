using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace QueryCache.Cli.Commands;

/// <summary>
/// <c>querycache evaluate --pairs FILE [--json] [--max-false-hit-rate R] [--contrast-terms "a;b|c" | @FILE] [--apply [--tenant T]]</c>:
/// how often each threshold would serve a wrong answer, with the configured embedding, with and without the guard.
/// </summary>
internal static class EvaluateCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var pairs = new Option<FileInfo>("--pairs") { Description = "CSV question_a,question_b,label,category (label 1: the answer cached for a is right for b)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var reportFile = new Option<FileInfo?>("--report") { Description = "Also write an HTML page with the charts (false-hit rate and recall by threshold, similarity histograms, the learned decision beside the best static one)" };
        var ablation = new Option<bool>("--ablation") { Description = "Also print the learned decision's operating point with each group of features left out" };
        var train = new Option<FileInfo?>("--train")
        {
            Description = "Labelled pairs (same CSV) to fit the learned decision on; without it the decision is cross-validated within --pairs",
        };
        var maxFalseHitRate = new Option<double>("--max-false-hit-rate")
        {
            Description = "The false-hit rate accepted: the learned decision's operating point, the best static threshold and the recommended one are chosen for it",
            DefaultValueFactory = _ => 0.01,
        };
        var contrastTerms = ContrastTermsOption.Create("default: none (give the ones your tenants configure)");
        var apply = new Option<bool>("--apply")
        {
            Description = "Keep the pairs as labels and refit the learned decision at --max-false-hit-rate, and write the recommended threshold to the config (global, or the tenant's with --tenant)",
        };
        var tenant = new Option<string?>("--tenant") { Description = "With --apply: the tenant whose threshold to set" };
        var command = new Command("evaluate", "Measure false hits and recall per threshold on labelled question pairs, and recommend a threshold.")
        {
            pairs, train, json, reportFile, ablation, maxFalseHitRate, contrastTerms, apply, tenant,
        };
        command.SetAction(async (parse, ct) =>
        {
            var bound = parse.GetValue(maxFalseHitRate);
            if (bound is < 0 or > 1)
            {
                throw new CliUsageException("--max-false-hit-rate is a fraction from 0 to 1, for example 0.01 for 1%.");
            }

            if (parse.GetValue(tenant) is not null && !parse.GetValue(apply))
            {
                throw new CliUsageException("--tenant goes with --apply: it names whose threshold to set.");
            }

            var labelled = Read(parse.GetValue(pairs)!);
            var training = parse.GetValue(train) is { } trainFile ? Read(trainFile) : null;
            var settings = context.Settings(parse, requireDatabase: parse.GetValue(apply));
            var options = new EvaluationOptions
            {
                MaxFalseHitRate = bound,
                TrainPairs = training,
                ContrastTerms = ContrastTermsOption.Read(parse, contrastTerms) ?? [],
            };
            using var generator = settings.CreateEmbeddingGenerator();
            var report = await CliProgress.RunAsync(context, report => CacheEvaluation.EvaluateAsync(labelled, generator, settings.ModelName, options,
                new SynchronousProgress<(int Done, int Total)>(p => report(p.Done, p.Total, $"evaluate: {p.Done}/{p.Total} questions embedded")), ct));

            if (parse.GetValue(reportFile) is { } page)
            {
                await File.WriteAllTextAsync(page.FullName, EvaluationReportPage.Render(report, options, parse.GetValue(pairs)!.Name), ct);
                await context.Error.WriteLineAsync($"report: {page.FullName}");
            }

            if (parse.GetValue(json))
            {
                await context.Output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    report.Model,
                    report.Dimensions,
                    report.Pairs,
                    report.Positives,
                    report.Negatives,
                    report.RecommendedThreshold,
                    report.Rows,
                    OperatingPoint = new Dictionary<string, object>
                    {
                        ["mode"] = report.OperatingPoint.Mode,
                        ["hits"] = report.OperatingPoint.Hits,
                        ["false_hits"] = report.OperatingPoint.FalseHits,
                        ["false_hit_rate"] = report.OperatingPoint.FalseHitRate,
                        ["false_hit_rate_upper_95"] = report.OperatingPoint.FalseHitRateUpper95,
                        ["recall"] = report.OperatingPoint.Recall,
                        ["cross_validated"] = report.OperatingPoint.CrossValidated,
                        ["folds"] = report.OperatingPoint.Folds,
                    },
                    report.Baseline,
                }, Json));
            }
            else
            {
                Print(context.OutputConsole, report, options);
                if (parse.GetValue(ablation))
                {
                    PrintAblation(context.OutputConsole, report, bound);
                }
            }

            return parse.GetValue(apply) ? await ApplyAsync(context, parse, report, parse.GetValue(tenant), bound, ct) : CliApp.Ok;
        });
        return command;
    }

    private static IReadOnlyList<LabelledPair> Read(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new CliUsageException($"The pairs file '{file.FullName}' does not exist.");
        }

        try
        {
            using var reader = file.OpenText();
            return CacheEvaluation.ReadPairs(reader);
        }
        catch (LabelledPairsFormatException ex)
        {
            throw new CliUsageException($"{file.Name}, {ex.Message} Nothing was embedded.");
        }
    }

    private static async Task<int> ApplyAsync(CliContext context, ParseResult parse, EvaluationReport report, string? tenant, double bound,
        CancellationToken ct)
    {
        await using var services = await context.ServicesAsync(parse, ct, configure: o => o.MaxFalseHitRate = bound);
        var cache = services.GetRequiredService<QueryCacheService>();
        var kept = await cache.AddLabelsAsync(report.Scored.Select(s => s.Label), tenant, ct);
        var decision = await cache.FitDecisionAsync(tenant, ct);
        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"kept {kept} pairs as labels of {(tenant is null ? "every tenant" : "tenant " + tenant)}; decision: {DecisionCommand.Describe(decision)}"));
        if (report.RecommendedThreshold is not { } threshold)
        {
            await context.Error.WriteLineAsync("No threshold meets the false-hit bound with hits left; the threshold was left as it is.");
            return CliApp.Miss;
        }

        await cache.UpdateConfigAsync(new CacheConfigUpdate { SimilarityThreshold = threshold }, tenant, ct);
        await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"applied similarity threshold {threshold:F2} to {(tenant is null ? "the global settings" : "tenant " + tenant)}."));
        return CliApp.Ok;
    }

    private static void Print(IAnsiConsole console, EvaluationReport report, EvaluationOptions options)
    {
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model {report.Model} ({report.Dimensions} dimensions): {report.Pairs} pairs ({report.Positives} same answer, {report.Negatives} different); contrast terms: {options.ContrastTerms.Count}"));
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("threshold", "hits", "false", "precision", "recall", "false-hit rate", "hits+guard", "false+guard", "precision+guard", "recall+guard", "false-hit rate+guard");
        foreach (var pair in report.Rows.Chunk(2))
        {
            var (off, on) = (pair[0], pair[1]);
            table.AddRow([F2(off.Threshold), .. Cells(off), .. Cells(on)]);
        }

        console.Write(table);
        console.WriteLine(report.RecommendedThreshold is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"recommended threshold: {t:F2} (the lowest whose false-hit rate with the guard is at most {options.MaxFalseHitRate:P1})")
            : "recommended threshold: none meets the bound with hits left");
        var op = report.OperatingPoint;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"learned decision at a false-hit rate of {options.MaxFalseHitRate:P1} ({op.Mode}, {(op.CrossValidated ? $"cross-validated, {op.Folds} folds" : "fitted on --train")}): " +
            $"{op.Hits} hits, {op.FalseHits} false, false-hit rate {op.FalseHitRate:P1} (at most {op.FalseHitRateUpper95:P1} with 95 % confidence), recall {op.Recall:F2}"));
        console.WriteLine(report.Baseline is { } b
            ? string.Create(CultureInfo.InvariantCulture,
                $"best static decision within {options.MaxFalseHitRate:P1}: threshold {b.Threshold:F2}{(b.Guard ? " + guard" : "")}, {b.Hits} hits, {b.FalseHits} false, recall {b.Recall:F2}")
            : string.Create(CultureInfo.InvariantCulture, $"best static decision within {options.MaxFalseHitRate:P1}: none (no threshold keeps its false hits that low)"));
        foreach (var threshold in new[] { QueryCacheSchema.DefaultSimilarityThreshold, report.RecommendedThreshold }.OfType<double>().Distinct())
        {
            var byCategory = new Table().Border(TableBorder.Simple).AddColumns("category", "label", "pairs", $"hits at {F2(threshold)}", "hits with guard");
            foreach (var group in report.Scored.GroupBy(s => (s.Pair.Category, s.Pair.SameAnswer)).OrderBy(g => !g.Key.SameAnswer).ThenBy(g => g.Key.Category, StringComparer.Ordinal))
            {
                byCategory.AddRow(group.Key.Category, group.Key.SameAnswer ? "1" : "0", Count(group.Count()),
                    Count(group.Count(s => s.IsHit(threshold, false))), Count(group.Count(s => s.IsHit(threshold, true))));
            }

            console.Write(byCategory);
        }
    }

    private static void PrintAblation(IAnsiConsole console, EvaluationReport report, double bound)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("learned decision", "hits", "false", "false-hit rate", "upper 95 %", "recall");
        table.AddRow([.. Point("all features", report.OperatingPoint)]);
        foreach (var (group, point) in CacheEvaluation.Ablate(report, bound))
        {
            table.AddRow([.. Point("without " + group, point)]);
        }

        console.Write(table);

        static string[] Point(string name, OperatingPoint p) =>
            [name, Count(p.Hits), Count(p.FalseHits), p.FalseHitRate.ToString("P1", CultureInfo.InvariantCulture),
                p.FalseHitRateUpper95.ToString("P1", CultureInfo.InvariantCulture), F2(p.Recall)];
    }

    private static string[] Cells(EvaluationRow row) =>
        [Count(row.Hits), Count(row.FalseHits), F2(row.Precision), F2(row.Recall), row.FalseHitRate.ToString("P1", CultureInfo.InvariantCulture)];

    private static string F2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
