using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using QueryCache.Cli.Commands;

namespace QueryCache.Cli;

/// <summary>
/// The querycache command line. Exit codes: 0 done (lookup: hit), 1 lookup miss, 2 wrong usage or input, 3 database
/// error, 4 a job already running, 130 cancelled.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int Miss = 1;
    public const int Usage = 2;
    public const int DatabaseError = 3;
    public const int Busy = 4;
    public const int Cancelled = 130;

    /// <summary>Runs one command line. <paramref name="environment"/> reads environment variables; <paramref name="input"/> answers confirmations.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input,
        Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var context = new CliContext(output, error, input, environment);
        var root = new RootCommand("querycache: the askwealth semantic query cache on PostgreSQL + pgvector.")
        {
            context.Connection,
            context.Config,
            MigrateCommand.Create(context),
            BackfillCommand.Create(context),
            CleanupCommand.Create(context),
            StatsCommand.Create(context),
            ConfigCommand.Create(context),
            LookupCommand.Create(context),
            InvalidateCommand.Create(context),
            QuickstartCommand.Create(context),
            EvaluateCommand.Create(context),
            MessageTriggersCommand.Create(context),
            SecurityCommand.Create(context),
            GraphCommand.Create(context),
            DecisionCommand.Create(context),
        };

        // No response files: "@FILE" is an option's value here (--contrast-terms @FILE), not arguments to splice in.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}");
            }

            await error.WriteLineAsync("Run with --help for the commands and their options.");
            return Usage;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (Exception ex) when (ex is CliUsageException or ArgumentException or OptionsValidationException)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return Usage;
        }
        catch (QueryCacheJobBusyException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return Busy;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("cancelled; a backfill resumes from its checkpoint next time.");
            return Cancelled;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            await error.WriteLineAsync($"error: {Describe(ex)}");
            return DatabaseError;
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        PostgresException { SqlState: "42P01" or "42883" or "3F000" } =>
            $"{ex.Message}. The QueryCache schema is missing or outdated: run `querycache migrate` (or dotnet ef database update).",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException } or NpgsqlException { IsTransient: true } =>
            $"cannot reach the database ({ex.Message}). Check the connection string and that the server is running (eng/db.sh start).",
        PostgresException { Hint.Length: > 0 } postgres => $"{postgres.MessageText} {postgres.Hint}",
        _ => ex.Message,
    };
}
