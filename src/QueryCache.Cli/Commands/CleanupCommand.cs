using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache cleanup</c>: expired entries, then the size caps.</summary>
internal static class CleanupCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("cleanup", "Delete expired entries, then the least recently used over the size caps.");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = await context.ServicesAsync(parse, ct);
            var status = await services.GetRequiredService<QueryCacheService>().CleanupAsync(ct);
            await context.Output.WriteLineAsync($"cleanup {status.Status}: {status.Processed} entries deleted.");
            return CliApp.Ok;
        });
        return command;
    }
}
