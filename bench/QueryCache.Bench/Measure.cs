using System.Collections.Concurrent;
using System.Diagnostics;

namespace QueryCache.Bench;

/// <summary>Timing helpers: percentiles and a fixed number of operations spread over concurrent workers.</summary>
internal static class Measure
{
    /// <summary>The nearest-rank percentile, rounded to microseconds; NaN for no values.</summary>
    public static double Percentile(IEnumerable<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0
            ? double.NaN
            : Math.Round(sorted[(int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)], 3);
    }

    public static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// <paramref name="operations"/> operations over <paramref name="workers"/> workers, each of which first gets its own
    /// operation from <paramref name="createWorker"/> (its connection, its prepared statement) and runs the first
    /// <paramref name="warmUp"/> untimed: latencies and throughput.
    /// </summary>
    public static async Task<(List<double> Latencies, double PerSecond)> ConcurrentAsync(
        int workers, int operations, Func<Task<(Func<int, Task> Run, IAsyncDisposable Resources)>> createWorker, int warmUp = 0)
    {
        var latencies = new ConcurrentBag<double>();
        var started = new List<(Func<int, Task> Run, IAsyncDisposable Resources)>();
        for (var i = 0; i < workers; i++)
        {
            started.Add(await WarmedAsync(createWorker, warmUp));
        }

        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(started.Select(worker => Task.Run(async () =>
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < operations)
            {
                latencies.Add(await TimeAsync(() => worker.Run(k)));
            }
        })));
        var perSecond = Math.Round(operations / total.Elapsed.TotalSeconds);
        foreach (var worker in started)
        {
            await worker.Resources.DisposeAsync();
        }

        return ([.. latencies], perSecond);
    }

    /// <summary>A worker from <paramref name="createWorker"/> that has run operations 0 to <paramref name="operations"/> − 1, untimed.</summary>
    public static async Task<(Func<int, Task> Run, IAsyncDisposable Resources)> WarmedAsync(
        Func<Task<(Func<int, Task> Run, IAsyncDisposable Resources)>> createWorker, int operations)
    {
        var worker = await createWorker();
        for (var k = 0; k < operations; k++)
        {
            await worker.Run(k);
        }

        return worker;
    }
}

/// <summary>What a worker that shares the cache (rather than its own connection) owns: nothing.</summary>
internal sealed class NoResources : IAsyncDisposable
{
    public static readonly NoResources Instance = new();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
