using System.CommandLine;
using QueryCache.Migrations;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache message-triggers install|remove</c>: entries that follow their source messages, opt-in.</summary>
internal static class MessageTriggersCommand
{
    public static Command Create(CliContext context) =>
        new("message-triggers", "Make entries follow the app's messages: an updated or deleted message removes the entries made from it.")
        {
            context.DatabaseCall("install", "Put the triggers on askwealth.message (idempotent).", QueryCacheMigrator.InstallMessageTriggersAsync,
                "installed: updating or deleting a message of askwealth.message now removes the cache entries made from it."),
            context.DatabaseCall("remove", "Take the triggers off askwealth.message.", QueryCacheMigrator.RemoveMessageTriggersAsync,
                "removed: askwealth.message has no QueryCache triggers."),
        };
}
