namespace JobDedup.Testing;

/// <summary>Turns a hang into a failure: every wait in these tests has a generous upper bound.</summary>
public static class Watchdog
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Limit);

    public static Task Within(this Task task) => task.WaitAsync(Limit);

    public static Task<T> Within<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Limit);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds: for state that other threads reach (a caller attached to a
    /// flight), not for time to pass. Fails the test if the state is never reached.
    /// </summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>Waits until an asynchronous condition holds, such as a queue on the broker being empty.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }
}
