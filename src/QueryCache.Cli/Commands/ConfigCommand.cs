using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache config get|set|reset [--tenant T]</c>: the settings in force, globally or per tenant.</summary>
internal static class ConfigCommand
{
    public static Command Create(CliContext context)
    {
        var tenant = new Option<string?>("--tenant") { Description = "A tenant's settings (default: the global ones)", Recursive = true };
        return new Command("config", "Read or change the cache settings.") { tenant, Get(context, tenant), Set(context, tenant), Reset(context, tenant) };
    }

    private static Command Get(CliContext context, Option<string?> tenant)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var get = new Command("get", "Show the settings in force.") { json };
        get.SetAction(async (parse, ct) =>
        {
            await using var services = await context.ServicesAsync(parse, ct);
            var current = await services.GetRequiredService<QueryCacheService>().GetConfigAsync(parse.GetValue(tenant), ct);
            await context.Output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(current, CliJson.Indented) : string.Create(CultureInfo.InvariantCulture,
                $"similarity_threshold {current.SimilarityThreshold}\ncache_enabled {(current.CacheEnabled ? "true" : "false")}\nmax_cache_entries {current.MaxCacheEntries}\ndefault_ttl {current.DefaultTimeToLive?.ToString() ?? "none"}\nguard_enabled {(current.GuardEnabled ? "true" : "false")}\ncontrast_terms {string.Join("; ", current.ContrastTerms)}\nshare_after_askers {current.ShareAfterAskers}"));
            return CliApp.Ok;
        });
        return get;
    }

    private static Command Set(CliContext context, Option<string?> tenant)
    {
        var threshold = new Option<double?>("--threshold") { Description = "Cosine similarity from 0 to 1 at or above which a cached question answers" };
        var enabled = new Option<bool?>("--enabled") { Description = "true or false" };
        var maxEntries = new Option<int?>("--max-entries") { Description = "Entries kept by cleanup, at least 1" };
        var ttl = new Option<TimeSpan?>("--ttl") { Description = "Default lifetime of new entries, for example 7.00:00:00" };
        var guard = new Option<bool?>("--guard") { Description = "true or false: the lexical guard checks candidate hits" };
        var terms = ContrastTermsOption.Create("\"\" clears them");
        var shareAfter = new Option<int?>("--share-after-askers")
        {
            Description = "Distinct users who must ask before a new shared answer answers the whole tenant, 1 (at once) to 1000",
        };
        var set = new Command("set", "Change settings; options left out stay as they are.") { threshold, enabled, maxEntries, ttl, guard, terms, shareAfter };
        set.SetAction(async (parse, ct) =>
        {
            var update = new CacheConfigUpdate
            {
                SimilarityThreshold = parse.GetValue(threshold),
                CacheEnabled = parse.GetValue(enabled),
                MaxCacheEntries = parse.GetValue(maxEntries),
                DefaultTimeToLive = parse.GetValue(ttl),
                GuardEnabled = parse.GetValue(guard),
                ContrastTerms = ContrastTermsOption.Read(parse, terms),
                ShareAfterAskers = parse.GetValue(shareAfter),
            };
            if (update == new CacheConfigUpdate())
            {
                throw new CliUsageException("Nothing to change: pass --threshold, --enabled, --max-entries, --ttl, --guard, --contrast-terms or --share-after-askers.");
            }

            await using var services = await context.ServicesAsync(parse, ct);
            await services.GetRequiredService<QueryCacheService>().UpdateConfigAsync(update, parse.GetValue(tenant), ct);
            await context.Output.WriteLineAsync("updated.");
            return CliApp.Ok;
        });
        return set;
    }

    private static Command Reset(CliContext context, Option<string?> tenant)
    {
        var reset = new Command("reset", "Remove a tenant's overrides so it follows the global settings.");
        reset.SetAction(async (parse, ct) =>
        {
            var tenantId = parse.GetValue(tenant) ?? throw new CliUsageException("config reset needs --tenant: the global settings have nothing to fall back to.");
            await using var services = await context.ServicesAsync(parse, ct);
            await services.GetRequiredService<QueryCacheService>().ResetConfigAsync(tenantId, ct);
            await context.Output.WriteLineAsync("reset.");
            return CliApp.Ok;
        });
        return reset;
    }
}
