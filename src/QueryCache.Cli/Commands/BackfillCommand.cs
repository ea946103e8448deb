using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

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

            await using var services = await context.ServicesAsync(parse, ct, jobs => jobs.BackfillBatchSize = parse.GetValue(batchSize) ?? jobs.BackfillBatchSize);
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

    /// <summary>Runs the backfill with its progress on the error stream.</summary>
    public static Task<QueryCacheJobStatus> RunAsync(CliContext context, ServiceProvider services, BackfillRequest request, CancellationToken ct) =>
        CliProgress.RunAsync(context, report => services.GetRequiredService<QueryCacheService>().PopulateFromExistingAsync(request,
            new SynchronousProgress<QueryCacheJobStatus>(status => report(status.Processed, status.Total ?? 0, Describe(status))), ct));

    private static string Describe(QueryCacheJobStatus status) => string.Create(CultureInfo.InvariantCulture,
        $"backfill: {status.Processed}/{status.Total} pairs, {status.Added} cached, {status.Rate:F0}/s{(status.EstimatedRemaining is { } eta ? $", about {eta.TotalSeconds:F0} s left" : "")}");
}
