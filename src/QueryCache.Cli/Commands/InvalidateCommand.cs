using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache invalidate --tenant T [--user U] | --message ID... | --all [--yes]</c>: deletes entries after a confirmation.</summary>
internal static class InvalidateCommand
{
    public static Command Create(CliContext context)
    {
        var tenant = new Option<string?>("--tenant") { Description = "Every entry of this tenant (with --user: that user's entries, and a tombstone for the backfill)" };
        var user = new Option<string?>("--user") { Description = "A user's entries; needs --tenant" };
        var message = new Option<string[]>("--message") { Description = "Entries made from these user or assistant message ids (uuids)", AllowMultipleArgumentsPerToken = true };
        var all = new Option<bool>("--all") { Description = "Every entry (for example after a system prompt change)" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var command = new Command("invalidate", "Delete cache entries.") { tenant, user, message, all, yes };
        command.SetAction(async (parse, ct) =>
        {
            var messages = (parse.GetValue(message) ?? []).Select(id => Guid.TryParse(id, out var guid) ? guid
                : throw new CliUsageException($"--message '{id}' is not a message id; pass the uuid of a user or assistant message.")).ToArray();
            var (tenantId, userId, everything) = (parse.GetValue(tenant), parse.GetValue(user), parse.GetValue(all));
            if (new[] { tenantId is not null, messages.Length > 0, everything }.Count(chosen => chosen) != 1 || (userId is not null && tenantId is null))
            {
                throw new CliUsageException("Say what to delete with exactly one of --tenant (optionally with --user), --message or --all.");
            }

            var what = everything ? "EVERY cache entry" : messages.Length > 0 ? $"the entries of {messages.Length} message(s)"
                : userId is null ? $"every entry of tenant '{tenantId}'" : $"the entries of user '{userId}' in tenant '{tenantId}'";
            if (!parse.GetValue(yes))
            {
                await context.Error.WriteAsync($"Delete {what}? Type yes to confirm: ");
                if (!string.Equals((await context.Input.ReadLineAsync(ct))?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliUsageException("Not confirmed; nothing was deleted. Pass --yes to skip the question in scripts.");
                }
            }

            await using var services = await context.ServicesAsync(parse, ct);
            var cache = services.GetRequiredService<QueryCacheService>();
            var count = everything ? await cache.InvalidateAllAsync(ct)
                : messages.Length > 0 ? await cache.InvalidateMessagesAsync(messages, ct)
                : userId is null ? await cache.InvalidateTenantAsync(tenantId!, ct)
                : await cache.InvalidateUserAsync(tenantId!, userId, ct);
            await context.Output.WriteLineAsync($"deleted {count} entries ({what}).");
            return CliApp.Ok;
        });
        return command;
    }
}
