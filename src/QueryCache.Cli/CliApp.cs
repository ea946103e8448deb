using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Migrations;

namespace QueryCache.Cli;

/// <summary>The querycache command line. Exit codes: 0 done (lookup: hit), 1 lookup miss, 2 wrong usage or input,
/// 3 database error, 4 a job already running, 130 cancelled.</summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int Miss = 1;
    public const int Usage = 2;
    public const int DatabaseError = 3;
    public const int Busy = 4;
    public const int Cancelled = 130;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Runs one command line. <paramref name="environment"/> reads environment variables; <paramref name="input"/> answers confirmations.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader input,
        Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var connection = new Option<string?>("--connection", "-c") { Description = $"Npgsql connection string of the app database (else ${CliSettings.ConnectionVariable}, else {CliSettings.DefaultConfigFile})", Recursive = true };
        var config = new Option<string?>("--config") { Description = $"JSON config file with ConnectionString, Dimensions, EmbeddingEndpoint, EmbeddingModel (default ./{CliSettings.DefaultConfigFile})", Recursive = true };
        var root = new RootCommand("querycache: the askwealth semantic query cache on PostgreSQL + pgvector.") { connection, config };
        var io = new Io(output, error, input, environment, connection, config);

        root.Add(MigrateCommand(io));
        root.Add(BackfillCommand(io));
        root.Add(CleanupCommand(io));
        root.Add(StatsCommand(io));
        root.Add(ConfigCommand(io));
        root.Add(LookupCommand(io));
        root.Add(InvalidateCommand(io));
        root.Add(QuickstartCommand(io));

        var parsed = root.Parse(args);
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
        catch (Exception ex) when (ex is CliUsageException or ArgumentException or Microsoft.Extensions.Options.OptionsValidationException)
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
        _ => ex.Message,
    };

    private static Command MigrateCommand(Io io)
    {
        var target = new Option<string?>("--target") { Description = "Migration to move to (default: the latest; 0 removes everything QueryCache created)" };
        var command = new Command("migrate", "Apply the QueryCache migrations to the database (the same as dotnet ef database update).") { target };
        command.SetAction(async (parse, ct) =>
        {
            var settings = io.Settings(parse);
            await QueryCacheMigrator.MigrateAsync(settings.ConnectionString, settings.Dimensions, parse.GetValue(target), ct);
            await io.Output.WriteLineAsync($"migrated to {parse.GetValue(target) ?? "the latest migration"} (embedding dimension {settings.Dimensions}).");
            return Ok;
        });
        return command;
    }

    private static Command BackfillCommand(Io io)
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant's history" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only questions asked at or after this time (ISO 8601)" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only questions asked before this time (ISO 8601)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Pairs per batch and checkpoint (default 500)" };
        var command = new Command("backfill", "Cache the answered questions of the message history; resumes an interrupted run.") { tenant, since, until, batchSize };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(batchSize) is < 1 or > 100_000)
            {
                throw new CliUsageException("--batch-size must be from 1 to 100000.");
            }

            await using var services = io.Services(parse, jobs => jobs.BackfillBatchSize = parse.GetValue(batchSize) ?? jobs.BackfillBatchSize);
            var status = await RunBackfillAsync(io, services, new BackfillRequest
            {
                TenantId = parse.GetValue(tenant),
                Since = parse.GetValue(since),
                Until = parse.GetValue(until),
            }, ct);
            await io.Output.WriteLineAsync(
                $"backfill {status.Status}: {status.Processed} pairs read, {status.Added} cached, {status.AlreadyCached} already cached, {status.Skipped} skipped, {status.Failed} failed.");
            return Ok;
        });
        return command;
    }

    internal static async Task<QueryCacheJobStatus> RunBackfillAsync(Io io, ServiceProvider services, BackfillRequest request, CancellationToken ct)
    {
        var progress = new SynchronousProgress(status =>
        {
            var total = Math.Max(status.Total ?? 0, 1);
            var done = (int)(20 * Math.Min(status.Processed, total) / total);
            io.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', done)}{new string('.', 20 - done)}] {status.Processed}/{status.Total} pairs, {status.Added} cached, {status.Rate:F0}/s{(status.EstimatedRemaining is { } eta ? $", about {eta.TotalSeconds:F0} s left" : "")}"));
        });
        return await services.GetRequiredService<QueryCacheService>().PopulateFromExistingAsync(request, progress, ct);
    }

    private static Command CleanupCommand(Io io)
    {
        var command = new Command("cleanup", "Delete expired entries, then the least recently used over the size caps.");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = io.Services(parse);
            var status = await services.GetRequiredService<QueryCacheService>().CleanupAsync(ct);
            await io.Output.WriteLineAsync($"cleanup {status.Status}: {status.Processed} entries deleted.");
            return Ok;
        });
        return command;
    }

    private static Command StatsCommand(Io io)
    {
        var tenant = new Option<string?>("--tenant") { Description = "One tenant's figures (default: the whole cache)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("stats", "Show entry and hit counts.") { tenant, json };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = io.Services(parse);
            var stats = await services.GetRequiredService<QueryCacheService>().GetCacheStatsAsync(parse.GetValue(tenant), ct);
            await io.Output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(stats, Json) : FormatStats(stats));
            return Ok;
        });
        return command;
    }

    internal static string FormatStats(CacheStats stats) => string.Create(CultureInfo.InvariantCulture, $"""
        {(stats.TenantId is null ? "all tenants" : "tenant " + stats.TenantId)}
          entries        {stats.TotalEntries} ({stats.ExpiredEntries} expired, {stats.EntriesWithHits} ever hit)
          cache hits     {stats.TotalCacheHits}
          tenants        {stats.TenantCount}
          oldest/newest  {stats.OldestEntryAt:u} / {stats.NewestEntryAt:u}
          last hit       {stats.LastHitAt:u}
        """);

    private static Command ConfigCommand(Io io)
    {
        var tenant = new Option<string?>("--tenant") { Description = "A tenant's settings (default: the global ones)", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var get = new Command("get", "Show the settings in force.") { json };
        get.SetAction(async (parse, ct) =>
        {
            await using var services = io.Services(parse);
            var current = await services.GetRequiredService<QueryCacheService>().GetConfigAsync(parse.GetValue(tenant), ct);
            await io.Output.WriteLineAsync(parse.GetValue(json) ? JsonSerializer.Serialize(current, Json) : string.Create(CultureInfo.InvariantCulture,
                $"similarity_threshold {current.SimilarityThreshold}\ncache_enabled {current.CacheEnabled.ToString().ToLowerInvariant()}\nmax_cache_entries {current.MaxCacheEntries}\ndefault_ttl {current.DefaultTimeToLive?.ToString() ?? "none"}"));
            return Ok;
        });

        var threshold = new Option<double?>("--threshold") { Description = "Cosine similarity from 0 to 1 at or above which a cached question answers" };
        var enabled = new Option<bool?>("--enabled") { Description = "true or false" };
        var maxEntries = new Option<int?>("--max-entries") { Description = "Entries kept by cleanup, at least 1" };
        var ttl = new Option<TimeSpan?>("--ttl") { Description = "Default lifetime of new entries, for example 7.00:00:00" };
        var set = new Command("set", "Change settings; options left out stay as they are.") { threshold, enabled, maxEntries, ttl };
        set.SetAction(async (parse, ct) =>
        {
            var update = new CacheConfigUpdate
            {
                SimilarityThreshold = parse.GetValue(threshold),
                CacheEnabled = parse.GetValue(enabled),
                MaxCacheEntries = parse.GetValue(maxEntries),
                DefaultTimeToLive = parse.GetValue(ttl),
            };
            if (update == new CacheConfigUpdate())
            {
                throw new CliUsageException("Nothing to change: pass --threshold, --enabled, --max-entries or --ttl.");
            }

            await using var services = io.Services(parse);
            await services.GetRequiredService<QueryCacheService>().UpdateConfigAsync(update, parse.GetValue(tenant), ct);
            await io.Output.WriteLineAsync("updated.");
            return Ok;
        });

        var reset = new Command("reset", "Remove a tenant's overrides so it follows the global settings.");
        reset.SetAction(async (parse, ct) =>
        {
            var tenantId = parse.GetValue(tenant) ?? throw new CliUsageException("config reset needs --tenant: the global settings have nothing to fall back to.");
            await using var services = io.Services(parse);
            await services.GetRequiredService<QueryCacheService>().ResetConfigAsync(tenantId, ct);
            await io.Output.WriteLineAsync("reset.");
            return Ok;
        });
        return new Command("config", "Read or change the cache settings.") { tenant, get, set, reset };
    }

    private static Command LookupCommand(Io io)
    {
        var question = new Argument<string>("question") { Description = "The question to look up" };
        var tenant = new Option<string>("--tenant") { Description = "The tenant asking", Required = true };
        var user = new Option<string?>("--user") { Description = "The user asking (sees their private entries too)" };
        var threshold = new Option<double?>("--threshold") { Description = "Similarity threshold for this lookup (default: the tenant's setting)" };
        var command = new Command("lookup", "Look a question up; exit code 0 on a hit, 1 on a miss.") { question, tenant, user, threshold };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = io.Services(parse);
            var result = await LookupAsync(io, parse, services, parse.GetValue(question)!, new CacheScope(parse.GetValue(tenant)!, parse.GetValue(user)), parse.GetValue(threshold), ct);
            await io.Output.WriteLineAsync(result.Describe());
            return result.Hit is null ? Miss : Ok;
        });
        return command;
    }

    internal static async Task<LookupResult> LookupAsync(Io io, ParseResult parse, ServiceProvider services, string question, CacheScope scope,
        double? threshold, CancellationToken ct)
    {
        var cache = services.GetRequiredService<QueryCacheService>();
        var watch = Stopwatch.StartNew();
        var hit = await cache.CheckCacheAsync(question, scope, threshold, ct);
        var elapsed = watch.Elapsed;
        var effective = threshold ?? (await cache.GetConfigAsync(scope.TenantId, ct)).SimilarityThreshold;
        CacheHit? nearest = null;
        if (hit is null)
        {
            // Only to show how close the nearest entry came: a read-only lookup with no threshold.
            await using var probe = io.Services(parse, readOnly: true);
            nearest = await probe.GetRequiredService<QueryCacheService>().CheckCacheAsync(question, scope, 0, ct);
        }

        return new LookupResult(question, hit, nearest, effective, elapsed);
    }

    internal sealed record LookupResult(string Question, CacheHit? Hit, CacheHit? Nearest, double Threshold, TimeSpan Elapsed)
    {
        public string Describe() => Hit is { } hit
            ? string.Create(CultureInfo.InvariantCulture, $"HIT  similarity {hit.Similarity:F3} (threshold {Threshold:F2}) in {Elapsed.TotalMilliseconds:F1} ms\n  matched: {hit.QueryText}\n  answer:  {hit.Answer}")
            : string.Create(CultureInfo.InvariantCulture, $"MISS nearest similarity {(Nearest is null ? "none" : Nearest.Similarity.ToString("F3", CultureInfo.InvariantCulture))} (threshold {Threshold:F2}) in {Elapsed.TotalMilliseconds:F1} ms{(Nearest is null ? "" : "\n  nearest: " + Nearest.QueryText)}");
    }

    private static Command InvalidateCommand(Io io)
    {
        var tenant = new Option<string?>("--tenant") { Description = "Every entry of this tenant (with --user: that user's private entries)" };
        var user = new Option<string?>("--user") { Description = "A user's private entries; needs --tenant" };
        var message = new Option<string[]>("--message") { Description = "Entries made from these user or assistant message ids (uuids)", AllowMultipleArgumentsPerToken = true };
        var all = new Option<bool>("--all") { Description = "Every entry (for example after a system prompt change)" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var command = new Command("invalidate", "Delete cache entries.") { tenant, user, message, all, yes };
        command.SetAction(async (parse, ct) =>
        {
            var messages = (parse.GetValue(message) ?? []).Select(id => Guid.TryParse(id, out var guid) ? guid
                : throw new CliUsageException($"--message '{id}' is not a message id; pass the uuid of a user or assistant message.")).ToArray();
            var (tenantId, userId, everything) = (parse.GetValue(tenant), parse.GetValue(user), parse.GetValue(all));
            var chosen = new[] { tenantId is not null, messages.Length > 0, everything }.Count(c => c);
            if (chosen != 1 || (userId is not null && tenantId is null))
            {
                throw new CliUsageException("Say what to delete with exactly one of --tenant (optionally with --user), --message or --all.");
            }

            var what = everything ? "EVERY cache entry" : messages.Length > 0 ? $"the entries of {messages.Length} message(s)"
                : userId is null ? $"every entry of tenant '{tenantId}'" : $"the private entries of user '{userId}' in tenant '{tenantId}'";
            if (!parse.GetValue(yes))
            {
                await io.Error.WriteAsync($"Delete {what}? Type yes to confirm: ");
                if (!string.Equals((await io.Input.ReadLineAsync(ct))?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliUsageException("Not confirmed; nothing was deleted. Pass --yes to skip the question in scripts.");
                }
            }

            await using var services = io.Services(parse);
            var cache = services.GetRequiredService<QueryCacheService>();
            var count = everything ? await cache.InvalidateAllAsync(ct)
                : messages.Length > 0 ? await cache.InvalidateMessagesAsync(messages, ct)
                : userId is null ? await cache.InvalidateTenantAsync(tenantId!, ct)
                : await cache.InvalidateUserAsync(tenantId!, userId, ct);
            await io.Output.WriteLineAsync($"deleted {count} entries ({what}).");
            return Ok;
        });
        return command;
    }

    private static Command QuickstartCommand(Io io)
    {
        var command = new Command("quickstart", "Load the sample AskWealth history, backfill it, and answer a few questions (the database must be migrated).");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = io.Services(parse);
            await Quickstart.RunAsync(io, parse, services, ct);
            return Ok;
        });
        return command;
    }

    private sealed class SynchronousProgress(Action<QueryCacheJobStatus> report) : IProgress<QueryCacheJobStatus>
    {
        public void Report(QueryCacheJobStatus value) => report(value);
    }
}
