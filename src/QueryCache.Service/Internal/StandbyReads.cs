using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace QueryCache.Internal;

/// <summary>
/// Where lookups read: the standby of <see cref="QueryCacheOptions.ReadConnectionString"/> when there is one and it
/// answers within <see cref="QueryCacheOptions.StandbyTimeout"/>, else the primary. A standby that keeps failing is left
/// alone for a few seconds (Polly's circuit breaker), so a dead one costs lookups nothing but the first failure; one
/// that is more than <see cref="QueryCacheOptions.MaxStandbyLag"/> behind (<see cref="StandbyLag"/>) is skipped until it
/// catches up. Nothing here writes: hits, stores and the jobs use the primary directly.
/// </summary>
internal sealed class StandbyReads
{
    private readonly CacheDataSource _database;
    private readonly QueryCacheMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _standby;
    private readonly StandbyLag _lag;

    public StandbyReads(CacheDataSource database, StandbyLag lag, QueryCacheMetrics metrics, IOptions<QueryCacheOptions> options,
        TimeProvider timeProvider, ILogger<StandbyReads> logger)
    {
        _database = database;
        _lag = lag;
        _metrics = metrics;
        _logger = logger;
        var timeout = options.Value.StandbyTimeout ?? options.Value.LookupTimeout / 2;
        _standby = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && FailOpenExecutor.IsDatabaseFailure(ex)),
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                SamplingDuration = TimeSpan.FromSeconds(5),
                BreakDuration = TimeSpan.FromSeconds(5),
                OnClosed = _ =>
                {
                    Log.StandbyRecovered(_logger);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(timeout)
            .Build();
    }

    /// <summary>
    /// <paramref name="read"/> on the standby, or on the primary when there is none, it failed or is being left alone,
    /// or <paramref name="primaryOnly"/> asks to see the latest writes.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlDataSource, CancellationToken, Task<T>> read, bool primaryOnly, CancellationToken cancellationToken)
    {
        if (_database.Standby is { } standby && !primaryOnly)
        {
            if (_lag.TooFar)
            {
                _metrics.StandbyFallback("lagging");
            }
            else
            {
                try
                {
                    return await _standby.ExecuteAsync(static async (state, token) =>
                            await FailOpenExecutor.Abandonable(state.read(state.standby, token), token).ConfigureAwait(false),
                        (read, standby), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (FailOpenExecutor.IsDatabaseFailure(ex) || ex is BrokenCircuitException))
                {
                    Fallback(ex);
                }
            }
        }

        return await read(_database.Primary, cancellationToken).ConfigureAwait(false);
    }

    private void Fallback(Exception exception)
    {
        switch (exception)
        {
            case BrokenCircuitException:
                _metrics.StandbyFallback("skipped");
                break;
            case TimeoutRejectedException:
                _metrics.StandbyFallback("timeout");
                break;
            default:
                _metrics.StandbyFallback("failed");
                Log.StandbyFailed(_logger, exception);
                break;
        }
    }
}
