using Spectre.Console;

namespace QueryCache.Cli;

/// <summary>
/// Progress of a long command: Spectre.Console's live bar on an interactive terminal, and otherwise (CI logs, pipes) a
/// plain line per report, which Spectre's own fallback (a line per 25% milestone, sampled each second) does not beat.
/// </summary>
internal static class CliProgress
{
    /// <summary>Runs <paramref name="work"/>, which reports (done, total, what to show).</summary>
    public static async Task<T> RunAsync<T>(CliContext context, Func<Action<long, long, string>, Task<T>> work)
    {
        if (!context.Console.Profile.Capabilities.Interactive)
        {
            return await work((_, _, text) => context.Error.WriteLine(text));
        }

        return await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("", autoStart: true, maxValue: 1);
                var result = await work((done, total, text) =>
                {
                    task.MaxValue = Math.Max(total, 1);
                    task.Value = Math.Min(done, task.MaxValue);
                    task.Description = Markup.Escape(text);
                });
                task.Value = task.MaxValue;
                return result;
            });
    }
}

/// <summary>Reports on the worker's own thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
