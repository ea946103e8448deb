using System.Collections.Concurrent;

namespace QueryCache.Internal;

/// <summary>
/// Concurrent calls for the same key share one run of the work. The work runs on a token of its own, cancelled only
/// when every caller waiting for it has given up; a caller's own token only ends that caller's wait. A caller arriving
/// after the run was abandoned starts a new one.
/// </summary>
internal sealed class SingleFlight<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Flight> _flights = new();

    public async Task<TResult> RunAsync(TKey key, Func<CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            var flight = _flights.GetOrAdd(key, static (k, state) => new Flight(state.Owner, k, state.Work), (Owner: this, Work: work));
            if (!flight.TryJoin(out var task))
            {
                // Abandoned by its last waiter a moment ago; it is on its way out of the dictionary.
                _flights.TryRemove(KeyValuePair.Create(key, flight));
                continue;
            }

            try
            {
                return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                flight.Leave();
                throw;
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001",
        Justification = "The token source never holds a timer, and the last caller leaving may cancel it after the work ended, so it is left to the GC.")]
    private sealed class Flight(SingleFlight<TKey, TResult> owner, TKey key, Func<CancellationToken, Task<TResult>> work)
    {
        private readonly Lock _gate = new();
        private readonly CancellationTokenSource _cancellation = new();
        private Task<TResult>? _task;
        private int _waiters;
        private bool _closed;

        public bool TryJoin(out Task<TResult> task)
        {
            lock (_gate)
            {
                if (_closed)
                {
                    task = Task.FromCanceled<TResult>(new CancellationToken(true));
                    return false;
                }

                _waiters++;
                // Started on the thread pool, so the work never runs under this lock.
                task = _task ??= Task.Run(RunAsync);
                return true;
            }
        }

        public void Leave()
        {
            lock (_gate)
            {
                if (--_waiters > 0 || _closed)
                {
                    return;
                }

                _closed = true;
            }

            owner._flights.TryRemove(KeyValuePair.Create(key, this));
            _cancellation.Cancel();
        }

        private async Task<TResult> RunAsync()
        {
            try
            {
                return await work(_cancellation.Token).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    _closed = true;
                }

                owner._flights.TryRemove(KeyValuePair.Create(key, this));
            }
        }
    }
}
