namespace QueryCache.Internal;

/// <summary>
/// What <c>GetOrAddAsync</c> and the chat middleware do after a miss: identical concurrent misses share one run of the
/// pipeline, within the process (<see cref="SingleFlight{TKey,TResult}"/>) and across instances (<see cref="FlightLock"/>),
/// and that run first looks again on the primary, which already has an answer another flight stored a moment ago.
/// </summary>
internal sealed class MissCoordinator(CacheLookups lookups, FlightLock flightLock)
{
    /// <summary>
    /// <paramref name="answered"/> for the entry the re-check finds, else <paramref name="compute"/> (given the re-check,
    /// whose embedding it can store); <paramref name="query"/> carries the question and, once embedded, its embedding.
    /// </summary>
    public Task<T> RunAsync<T>(SingleFlight<FlightKey, T> flights, CacheQuery query, Func<CacheHit, T> answered,
        Func<CacheLookupResult, CancellationToken, Task<T>> compute, CancellationToken cancellationToken)
    {
        var (scope, question) = (query.Scope, query.Question!);
        // Everything that changes the answer is in the key: callers asking at another threshold do not share a flight.
        // A known asker has a flight of their own: an answer made for one user is not handed to another before it is shared.
        var key = new FlightKey(scope.TenantId, scope.UserId ?? query.AskedByUserId, QueryText.Normalize(question), query.SimilarityThreshold);
        return flights.RunAsync(key, async flightToken =>
        {
            // Held by another instance until it has stored its answer.
            var lease = await flightLock.AcquireAsync(key, flightToken).ConfigureAwait(false);
            await using (lease.ConfigureAwait(false))
            {
                // Not a lookup of the caller's: it is not counted again.
                var recheck = await lookups.LookupAsync(query, flightToken, primaryOnly: true, counted: false).ConfigureAwait(false);
                return recheck.Hit is { } hit ? answered(hit) : await compute(recheck, flightToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }
}

/// <summary>What identifies a flight: the scope, the normalized question and the threshold asked for.</summary>
internal readonly record struct FlightKey(string TenantId, string? UserId, string Question, double? Threshold);
