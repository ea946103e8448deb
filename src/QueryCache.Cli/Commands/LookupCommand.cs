using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache lookup "question" --tenant T</c>: a hit (exit 0), or a miss with why and how close the nearest entry came (exit 1).</summary>
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
            await using var services = await context.ServicesAsync(parse, ct);
            var result = await LookupAsync(services, parse.GetValue(question)!, new CacheScope(parse.GetValue(tenant)!, parse.GetValue(user)),
                parse.GetValue(threshold), ct);
            await context.Output.WriteLineAsync(result.Describe());
            return result.Hit is null ? CliApp.Miss : CliApp.Ok;
        });
        return command;
    }

    /// <summary>One lookup: the hit, or why it missed and how close the nearest entry came (no second scan).</summary>
    public static async Task<Result> LookupAsync(ServiceProvider services, string question, CacheScope scope, double? threshold, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var result = await services.GetRequiredService<QueryCacheService>().LookupAsync(
            new CacheQuery { Scope = scope, Question = question, SimilarityThreshold = threshold }, ct);
        return new Result(result, watch.Elapsed);
    }

    internal sealed record Result(CacheLookupResult Lookup, TimeSpan Elapsed)
    {
        public CacheHit? Hit => Lookup.Hit;

        public string Describe()
        {
            var threshold = Lookup.Threshold is { } t ? t.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            if (Hit is { } hit)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"HIT  similarity {hit.Similarity:F3} (threshold {threshold}) in {Elapsed.TotalMilliseconds:F1} ms\n  matched: {hit.QueryText}\n  answer:  {hit.Answer}");
            }

            var nearest = Lookup.NearestSimilarity is { } similarity ? similarity.ToString("F3", CultureInfo.InvariantCulture) : "none";
            var reason = Lookup.MissReason is { } r ? System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(r.ToString()) : "miss";
            return string.Create(CultureInfo.InvariantCulture,
                $"MISS nearest similarity {nearest} (threshold {threshold}; {reason}) in {Elapsed.TotalMilliseconds:F1} ms{(Lookup.NearestQueryText is { } text ? "\n  nearest: " + text : "")}");
        }
    }
}
