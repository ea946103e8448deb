using System.CommandLine;
using QueryCache.Migrations;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache security rls enable|disable</c> and <c>querycache security grant ROLE</c>: isolation the database enforces, opt in.</summary>
internal static class SecurityCommand
{
    public static Command Create(CliContext context)
    {
        var role = new Argument<string>("role") { Description = "An existing login role, neither superuser nor BYPASSRLS" };
        var grant = new Command("grant", "Grant a login role what the service needs at run time, and nothing more (no DDL, no ownership).") { role };
        grant.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(role)!;
            await QueryCacheMigrator.GrantToAsync(context.Settings(parse).ConnectionString!, name, ct);
            await context.Output.WriteLineAsync($"granted: {name} may run the service; with row-level security on it sees only the tenant each statement declares.");
            return CliApp.Ok;
        });
        return new Command("security", "Isolation the database enforces: row-level security and a least-privilege role for the service.")
        {
            new Command("rls", "Row-level security on the cache's tables (run as their owner).")
            {
                context.DatabaseCall("enable", "Turn row-level security on.", QueryCacheMigrator.EnableRowLevelSecurityAsync,
                    "enabled: a session sees only the cache rows of the tenant it declares (querycache.tenant_id); the owner and superusers still see all."),
                context.DatabaseCall("disable", "Turn row-level security off.", QueryCacheMigrator.DisableRowLevelSecurityAsync,
                    "disabled: no row was touched."),
            },
            grant,
        };
    }
}
