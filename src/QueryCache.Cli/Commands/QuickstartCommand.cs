using System.CommandLine;
using System.Reflection;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache quickstart</c>: sample history in, backfill, a few questions that hit and a few that miss, then the figures.</summary>
internal static class QuickstartCommand
{
    // Questions a user might ask next, in words the history does not contain: rewordings of answered questions, and new ones.
    private static readonly (string Tenant, string Question, string Kind)[] Questions =
    [
        ("northbridge-wealth", "What fees do you charge on a stocks and shares ISA?", "asked before"),
        ("northbridge-wealth", "what fees are currently charged on stocks and shares ISAs", "reworded"),
        ("harbor-advisors", "How much money can I pay into ISAs in this tax year?", "reworded"),
        ("summit-private", "is it possible to transfer an ISA from another provider to you", "reworded"),
        ("evergreen-planning", "When am I able to access my pension pot?", "reworded"),
        ("northbridge-wealth", "How does pension tax relief on contributions work for me?", "reworded"),
        ("harbor-advisors", "Which costs apply to the investments in my ISA?", "reworded, other words"),
        ("harbor-advisors", "Do you offer mortgages for buy-to-let property?", "new"),
        ("summit-private", "What will the weather be like in London tomorrow?", "new"),
        ("evergreen-planning", "Can I hold bitcoin in my account?", "new"),
    ];

    public static Command Create(CliContext context)
    {
        var command = new Command("quickstart", "Load the sample AskWealth history, backfill it, and answer a few questions (the database must be migrated).");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = await context.ServicesAsync(parse, ct);
            await RunAsync(context, parse, services, ct);
            return CliApp.Ok;
        });
        return command;
    }

    private static async Task RunAsync(CliContext context, ParseResult parse, ServiceProvider services, CancellationToken ct)
    {
        var settings = context.Settings(parse);
        var output = context.Output;
        await output.WriteLineAsync($"embedding model: {settings.ModelName}{(settings.UsesLocalEmbedder ? $" ({settings.Dimensions} dimensions, in process; set {CliSettings.EndpointVariable} for your own)" : "")}");

        await using (var connection = new NpgsqlConnection(settings.ConnectionString))
        {
            await connection.ExecuteAsync(new CommandDefinition(Resource("sample-app-schema.sql"), cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition($"SELECT {QueryCacheSchema.Schema}.{QueryCacheSchema.Functions.DefineQaView}()", cancellationToken: ct));
            var added = await connection.ExecuteAsync(new CommandDefinition(Resource("sample-history.sql"), commandTimeout: 300, cancellationToken: ct));
            var (messages, conversations, tenants) = await connection.QuerySingleAsync<(long, long, long)>(new CommandDefinition(
                "SELECT count(*), count(DISTINCT conversation_id), count(DISTINCT tenant_id) FROM askwealth.message", cancellationToken: ct));
            await output.WriteLineAsync($"sample history: {added} messages loaded now; the table holds {messages} messages in {conversations} conversations of {tenants} tenants.");
        }

        var status = await BackfillCommand.RunAsync(context, services, new BackfillRequest(), ct);
        await output.WriteLineAsync($"backfill: {status.Processed} Q&A pairs read, {status.Added} cached now, {status.AlreadyCached} were already cached.");
        await output.WriteLineAsync();

        foreach (var (tenant, question, kind) in Questions)
        {
            var result = await LookupCommand.LookupAsync(services, question, new CacheScope(tenant), null, ct);
            await output.WriteLineAsync($"[{kind}] {tenant}: \"{question}\"");
            await output.WriteLineAsync("  " + result.Describe().Replace("\n", "\n  ", StringComparison.Ordinal));
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync(StatsCommand.Format(await services.GetRequiredService<QueryCacheService>().GetCacheStatsAsync(cancellationToken: ct)));
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The CLI was built without its {name} resource.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
