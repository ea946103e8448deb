using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace QueryCache.Cli.Commands;

/// <summary><c>querycache backfill</c>: caches the answered questions of the message history, with a progress bar.</summary>
internal static class BackfillCommand
{
    public static Command Create(CliContext context)
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

            await using var services = context.Services(parse, jobs => jobs.BackfillBatchSize = parse.GetValue(batchSize) ?? jobs.BackfillBatchSize);
            var status = await RunAsync(context, services, new BackfillRequest
            {
                TenantId = parse.GetValue(tenant),
                Since = parse.GetValue(since),
                Until = parse.GetValue(until),
            }, ct);
            await context.Output.WriteLineAsync(
                $"backfill {status.Status}: {status.Processed} pairs read, {status.Added} cached, {status.AlreadyCached} already cached, {status.Skipped} skipped, {status.Failed} failed.");
            return CliApp.Ok;
        });
        return command;
    }

    /// <summary>
    /// Runs the backfill with Spectre's live progress bar on an interactive terminal, and otherwise (CI logs, pipes) a
    /// plain line per committed batch, which Spectre's fallback (a line per 25% milestone, sampled each second) does not beat.
    /// </summary>
    public static async Task<QueryCacheJobStatus> RunAsync(CliContext context, ServiceProvider services, BackfillRequest request, CancellationToken ct)
    {
        var cache = services.GetRequiredService<QueryCacheService>();
        if (!context.Console.Profile.Capabilities.Interactive)
        {
            return await cache.PopulateFromExistingAsync(request, new SynchronousProgress(status => context.Error.WriteLine(Describe(status))), ct);
        }

        return await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("backfill", autoStart: true, maxValue: 1);
                var status = await cache.PopulateFromExistingAsync(request, new SynchronousProgress(status =>
                {
                    task.MaxValue = Math.Max(status.Total ?? 0, 1);
                    task.Value = Math.Min(status.Processed, task.MaxValue);
                    task.Description = Markup.Escape(Describe(status));
                }), ct);
                task.Value = task.MaxValue;
                return status;
            });
    }

    private static string Describe(QueryCacheJobStatus status) => string.Create(CultureInfo.InvariantCulture,
        $"backfill: {status.Processed}/{status.Total} pairs, {status.Added} cached, {status.Rate:F0}/s{(status.EstimatedRemaining is { } eta ? $", about {eta.TotalSeconds:F0} s left" : "")}");

    /// <summary>Reports on the backfill's own thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<QueryCacheJobStatus> report) : IProgress<QueryCacheJobStatus>
    {
        public void Report(QueryCacheJobStatus value) => report(value);
    }
}
