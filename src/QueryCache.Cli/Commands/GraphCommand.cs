using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache graph build|drop TENANT</c>: a tenant's own HNSW graph, for a tenant with a large share of the entries.</summary>
internal static class GraphCommand
{
    public static Command Create(CliContext context)
    {
        var prefix = new Option<int?>("--prefix-dimensions")
        {
            Description = "Build the graph on the embeddings' first N dimensions, re-ranking on all of them: for a model trained to be truncated (text-embedding-3: 256 or 512)",
        };
        var build = Subcommand("build", "Build the tenant's own graph (CREATE INDEX CONCURRENTLY: lookups and stores go on; minutes per 100,000 entries).",
            async (cache, parse, tenant, ct) => await cache.BuildTenantGraphAsync(tenant, parse.GetValue(prefix), ct)
                ? $"built: the lookups of tenant '{tenant}' walk its own graph."
                : $"tenant '{tenant}' already has its own graph (drop it first to build another).");
        build.Options.Add(prefix);
        var drop = Subcommand("drop", "Drop the tenant's own graph; its lookups walk the shared graph again.",
            async (cache, _, tenant, ct) => await cache.DropTenantGraphAsync(tenant, ct)
                ? $"dropped: the lookups of tenant '{tenant}' walk the shared graph."
                : $"tenant '{tenant}' had no graph of its own.");
        return new Command("graph", "A tenant's own HNSW graph: its lookups walk its entries alone, reading no other tenant's rows (see docs/performance.md).") { build, drop };

        Command Subcommand(string name, string description, Func<QueryCacheService, ParseResult, string, CancellationToken, Task<string>> act)
        {
            var tenant = new Argument<string>("tenant") { Description = "The tenant id" };
            var command = new Command(name, description) { tenant };
            command.SetAction(async (parse, ct) =>
            {
                await using var services = await context.ServicesAsync(parse, ct);
                await context.Output.WriteLineAsync(await act(services.GetRequiredService<QueryCacheService>(), parse, parse.GetValue(tenant)!, ct));
                return CliApp.Ok;
            });
            return command;
        }
    }
}
