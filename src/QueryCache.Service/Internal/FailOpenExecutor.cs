using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace QueryCache.Internal;

/// <summary>What the cache does against its database: on the host's request path, or behind it (hits, index passes).</summary>
internal enum CacheOperation
{
    Lookup,
    Store,
    Hits,
    Index,
}

/// <summary>
/// Runs the cache's calls on the host's request path so they never take the host down: each is bounded by its timeout
/// (the caller gets control back at the timeout even when the database does not answer the cancellation), a database
/// that keeps failing is left alone for <see cref="QueryCacheOptions.BreakDuration"/> (Polly's circuit breaker), and a
/// failure is logged, counted and, with <see cref="QueryCacheOptions.FailOpen"/>, answered by a fallback. The caller's
/// own cancellation is always rethrown.
/// </summary>
internal sealed class FailOpenExecutor
{
    private readonly QueryCacheOptions _options;
    private readonly QueryCacheMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Dictionary<CacheOperation, ResiliencePipeline> _pipelines;

    public FailOpenExecutor(IOptions<QueryCacheOptions> options, QueryCacheMetrics metrics, ILogger<FailOpenExecutor> logger, TimeProvider timeProvider)
    {
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        var database = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (_options.BreakDuration > TimeSpan.Zero)
        {
            database.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && IsDatabaseFailure(ex)),
                FailureRatio = 0.5,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = _options.BreakDuration,
                OnOpened = args =>
                {
                    Log.CircuitOpened(_logger, args.BreakDuration.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    Log.CircuitClosed(_logger);
                    return ValueTask.CompletedTask;
                },
            });
        }

        // One breaker for the database, shared by every operation; a timeout of each operation's own inside it.
        var breaker = database.Build();
        _pipelines = new Dictionary<CacheOperation, ResiliencePipeline>
        {
            [CacheOperation.Lookup] = WithTimeout(breaker, _options.LookupTimeout, timeProvider),
            [CacheOperation.Store] = WithTimeout(breaker, _options.StoreTimeout, timeProvider),
            [CacheOperation.Hits] = WithTimeout(breaker, _options.StoreTimeout, timeProvider),
            [CacheOperation.Index] = WithTimeout(breaker, _options.StoreTimeout, timeProvider),
        };
    }

    /// <summary>
    /// <paramref name="call"/>, or <paramref name="fallback"/> when the database failed, timed out or is being left
    /// alone and <see cref="QueryCacheOptions.FailOpen"/> is on (else the failure is thrown).
    /// </summary>
    public async Task<T> ExecuteAsync<T>(CacheOperation operation, string tenantId, Func<CancellationToken, Task<T>> call, T fallback,
        CancellationToken cancellationToken)
    {
        try
        {
            return await _pipelines[operation].ExecuteAsync(static async (call, token) => await Abandonable(call(token), token).ConfigureAwait(false),
                call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (IsDatabaseFailure(ex) || ex is ExecutionRejectedException))
        {
            _metrics.Error(operation);
            var timeout = operation == CacheOperation.Lookup ? _options.LookupTimeout : _options.StoreTimeout;
            switch (ex)
            {
                case BrokenCircuitException:
                    Log.CircuitSkipped(_logger, operation, tenantId);
                    break;
                case TimeoutRejectedException:
                    Log.TimedOut(_logger, operation, tenantId, timeout.TotalMilliseconds);
                    break;
                default:
                    Log.Failed(_logger, ex, operation, tenantId);
                    break;
            }

            // Background work has no caller to tell: hit counts are dropped, unindexed entries wait for the next pass.
            if (!_options.FailOpen && operation is CacheOperation.Lookup or CacheOperation.Store)
            {
                throw ex is TimeoutRejectedException
                    ? new TimeoutException($"The cache database did not answer within {timeout.TotalMilliseconds} ms.", ex)
                    : ex;
            }

            return fallback;
        }
    }

    private static ResiliencePipeline WithTimeout(ResiliencePipeline breaker, TimeSpan timeout, TimeProvider timeProvider) =>
        new ResiliencePipelineBuilder { TimeProvider = timeProvider }.AddPipeline(breaker).AddTimeout(timeout).Build();

    /// <summary>
    /// Stops waiting when <paramref name="token"/> is cancelled even if the database has not acknowledged the
    /// cancellation yet; the abandoned call finishes in the background and its outcome is observed there.
    /// </summary>
    public static async Task<T> Abandonable<T>(Task<T> task, CancellationToken token)
    {
        try
        {
            return await task.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!task.IsCompleted)
        {
            _ = task.ContinueWith(static t => t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>A failure of the database or the way to it, as opposed to a bug or the caller's cancellation.</summary>
    public static bool IsDatabaseFailure(Exception exception) =>
        exception is NpgsqlException or SocketException or TimeoutException or TimeoutRejectedException;
}
