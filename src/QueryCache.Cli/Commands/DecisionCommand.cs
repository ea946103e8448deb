using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache decision show|fit [--tenant T]</c>: the decision in force and the labels behind it; refit it now.</summary>
internal static class DecisionCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("decision", "Show or refit the decision learned from labels (feedback, audits, verifier verdicts, labelled pairs).");
        var showTenant = new Option<string?>("--tenant") { Description = "The tenant (default: the global fit)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var show = new Command("show", "What decides the tenant's candidates, and the labels behind it.") { showTenant, json };
        show.SetAction(async (parse, ct) =>
        {
            await using var services = await context.ServicesAsync(parse, ct);
            var decision = await services.GetRequiredService<QueryCacheService>().GetDecisionAsync(parse.GetValue(showTenant), ct);
            await context.Output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(decision, CliJson.Indented) : Describe(decision));
            return CliApp.Ok;
        });

        var fitTenant = new Option<string?>("--tenant") { Description = "The tenant whose own labels to fit (default: the global fit, from every label)" };
        var rate = new Option<double>("--max-false-hit-rate") { Description = "The false-hit rate to fit for", DefaultValueFactory = _ => 0.01 };
        var fit = new Command("fit", "Refit the learned decision from the labels now.") { fitTenant, rate };
        fit.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(rate) is <= 0 or >= 0.5)
            {
                throw new CliUsageException("--max-false-hit-rate is a fraction above 0 and below 0.5, for example 0.01 for 1%.");
            }

            await using var services = await context.ServicesAsync(parse, ct, configure: o => o.MaxFalseHitRate = parse.GetValue(rate));
            var decision = await services.GetRequiredService<QueryCacheService>().FitDecisionAsync(parse.GetValue(fitTenant), ct);
            await context.Output.WriteLineAsync(Describe(decision));
            return CliApp.Ok;
        });
        command.Subcommands.Add(show);
        command.Subcommands.Add(fit);
        return command;
    }

    public static string Describe(CacheDecision decision) => decision.Mode == CacheDecision.Learned || decision.FittedAt is not null
        ? string.Create(CultureInfo.InvariantCulture,
            $"{(decision.Mode == CacheDecision.Learned ? "learned" : "fitted, not in force (MaxFalseHitRate not set)")} ({(decision.FittedFor is null ? "global fit" : "fit of tenant " + decision.FittedFor)}: {decision.Labels} labels, {decision.RightLabels} right; " +
            $"expected false-hit rate {decision.ExpectedFalseHitRate:P1} for {decision.MaxFalseHitRate:P1}; {(decision.Cutoff is { } c ? $"serves from p = {c:F3}" : "serves nothing yet")}; fitted {decision.FittedAt:u})")
        : $"threshold + guard (nothing learned yet{(decision.Labels > 0 ? string.Create(CultureInfo.InvariantCulture, $": {decision.Labels} labels, {decision.RightLabels} right, need {CacheDecision.MinimumLabels} with {CacheDecision.MinimumOfEachKind} of each") : "")})";
}
