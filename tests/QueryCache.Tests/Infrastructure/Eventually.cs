namespace QueryCache.Tests.Infrastructure;

/// <summary>Polling for what becomes true a little later: a healed pool, a job that started, a flushed count.</summary>
public static class Eventually
{
    /// <summary>The first non-null result of <paramref name="probe"/>, polled every 100 ms at most <paramref name="attempts"/> times; null if none.</summary>
    public static async Task<T?> ValueAsync<T>(Func<Task<T?>> probe, int attempts = 50)
        where T : class
    {
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100);
        }

        return null;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling every 50 ms; fails the test after 10 s.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the condition was not met within 10 s");
    }
}
