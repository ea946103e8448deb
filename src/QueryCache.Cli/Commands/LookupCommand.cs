using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache lookup "question" --tenant T</c>: a hit (exit 0) or a miss with how close the nearest entry came (exit 1).</summary>
internal static class LookupCommand
{
    public static Command Create(CliContext context)
    {
        var question = new Argument<string>("question") { Description = "The question to look up" };
        var tenant = new Option<string>("--tenant") { Description = "The tenant asking", Required = true };
        var user = new Option<string?>("--user") { Description = "The user asking (sees their private entries too)" };
        var threshold = new Option<double?>("--threshold") { Description = "Similarity threshold for this lookup (default: the tenant's setting)" };
        var command = new Command("lookup", "Look a question up; exit code 0 on a hit, 1 on a miss.") { question, tenant, user, threshold };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = context.Services(parse);
            var result = await LookupAsync(context, parse, services, parse.GetValue(question)!, new CacheScope(parse.GetValue(tenant)!, parse.GetValue(user)),
                parse.GetValue(threshold), ct);
            await context.Output.WriteLineAsync(result.Describe());
            return result.Hit is null ? CliApp.Miss : CliApp.Ok;
        });
        return command;
    }

    public static async Task<Result> LookupAsync(CliContext context, ParseResult parse, ServiceProvider services, string question, CacheScope scope,
        double? threshold, CancellationToken ct)
    {
        var cache = services.GetRequiredService<QueryCacheService>();
        var watch = Stopwatch.StartNew();
        var hit = await cache.CheckCacheAsync(question, scope, threshold, ct);
        var elapsed = watch.Elapsed;
        var effective = threshold ?? (await cache.GetConfigAsync(scope.TenantId, ct)).SimilarityThreshold;
        CacheHit? nearest = null;
        if (hit is null)
        {
            // Only to show how close the nearest entry came: a read-only lookup with no threshold.
            await using var probe = context.Services(parse, readOnly: true);
            nearest = await probe.GetRequiredService<QueryCacheService>().CheckCacheAsync(question, scope, 0, ct);
        }

        return new Result(hit, nearest, effective, elapsed);
    }

    internal sealed record Result(CacheHit? Hit, CacheHit? Nearest, double Threshold, TimeSpan Elapsed)
    {
        public string Describe() => Hit is { } hit
            ? string.Create(CultureInfo.InvariantCulture, $"HIT  similarity {hit.Similarity:F3} (threshold {Threshold:F2}) in {Elapsed.TotalMilliseconds:F1} ms\n  matched: {hit.QueryText}\n  answer:  {hit.Answer}")
            : string.Create(CultureInfo.InvariantCulture, $"MISS nearest similarity {(Nearest is null ? "none" : Nearest.Similarity.ToString("F3", CultureInfo.InvariantCulture))} (threshold {Threshold:F2}) in {Elapsed.TotalMilliseconds:F1} ms{(Nearest is null ? "" : "\n  nearest: " + Nearest.QueryText)}");
    }
}
