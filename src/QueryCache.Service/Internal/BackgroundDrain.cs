namespace QueryCache.Internal;

/// <summary>
/// Runs <c>drainOnce</c> in the background whenever signalled, over and over while it reports more work: one run at a
/// time, and a signal that arrives during a run is never lost (the run goes round again or a new one starts).
/// </summary>
internal sealed class BackgroundDrain(Func<Task<bool>> drainOnce)
{
    private Task _running = Task.CompletedTask;
    private int _active;
    private int _signalled;

    /// <summary>Asks for a run; returns at once.</summary>
    public void Signal()
    {
        Volatile.Write(ref _signalled, 1);
        if (Interlocked.CompareExchange(ref _active, 1, 0) == 0)
        {
            _running = Task.Run(RunAsync);
        }
    }

    /// <summary>Completes when the current run (if any) has finished.</summary>
    public Task WhenIdleAsync() => _running;

    private async Task RunAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _signalled, 0) == 1)
            {
                while (await drainOnce().ConfigureAwait(false))
                {
                }
            }
        }
        finally
        {
            Volatile.Write(ref _active, 0);
            // A signal between the last check and the reset above found the run busy: start another.
            if (Volatile.Read(ref _signalled) == 1 && Interlocked.CompareExchange(ref _active, 1, 0) == 0)
            {
                _running = Task.Run(RunAsync);
            }
        }
    }
}
