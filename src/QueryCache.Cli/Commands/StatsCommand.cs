using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache stats [--tenant T] [--json]</c>: entry and hit counts.</summary>
internal static class StatsCommand
{
    public static Command Create(CliContext context)
    {
        var tenant = new Option<string?>("--tenant") { Description = "One tenant's figures (default: the whole cache)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("stats", "Show entry and hit counts.") { tenant, json };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = await context.ServicesAsync(parse, ct);
            var cache = services.GetRequiredService<QueryCacheService>();
            var stats = await cache.GetCacheStatsAsync(parse.GetValue(tenant), ct);
            await context.Output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(stats, CliJson.Indented) : Format(stats));
            if (!parse.GetValue(json))
            {
                await context.Output.WriteLineAsync("  decision       " + DecisionCommand.Describe(await cache.GetDecisionAsync(parse.GetValue(tenant), ct)));
            }
            return CliApp.Ok;
        });
        return command;
    }

    public static string Format(CacheStats stats) => string.Create(CultureInfo.InvariantCulture, $"""
        {(stats.TenantId is null ? "all tenants" : "tenant " + stats.TenantId)}
          entries        {stats.TotalEntries} ({stats.ExpiredEntries} expired, {stats.EntriesWithHits} ever hit)
          cache hits     {stats.TotalCacheHits}
          sharing        {stats.PendingEntries} waiting for askers, {stats.PromotedEntries} shared after them
          tenants        {stats.TenantCount}
          oldest/newest  {stats.OldestEntryAt:u} / {stats.NewestEntryAt:u}
          last hit       {stats.LastHitAt:u}
        """);
}

/// <summary>The CLI's JSON output settings.</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
