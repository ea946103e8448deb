using System.CommandLine;
using QueryCache.Migrations;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache migrate [--target M]</c>: the same as <c>dotnet ef database update</c>.</summary>
internal static class MigrateCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Option<string?>("--target") { Description = "Migration to move to (default: the latest; 0 removes everything QueryCache created)" };
        var command = new Command("migrate", "Apply the QueryCache migrations to the database (the same as dotnet ef database update).") { target };
        command.SetAction(async (parse, ct) =>
        {
            var settings = context.Settings(parse);
            if (parse.GetValue(target) is null)
            {
                await CliContext.EnsureModelFitsAsync(settings, ct);
            }

            await QueryCacheMigrator.MigrateAsync(settings.ConnectionString!, settings.Dimensions, settings.Precision, parse.GetValue(target), ct);
            await context.Output.WriteLineAsync(
                $"migrated to {parse.GetValue(target) ?? "the latest migration"} (embedding {QueryCacheSchema.VectorType(settings.Precision)}({settings.Dimensions})).");
            return CliApp.Ok;
        });
        return command;
    }
}
