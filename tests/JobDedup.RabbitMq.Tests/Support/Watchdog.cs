namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Turns a hang into a failure; waits for states other threads or the broker reach, never for time to pass.</summary>
public static class Watchdog
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static Task Within(this Task task) => task.WaitAsync(Limit);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Limit);

    public static async Task Until(Func<bool> condition, string what) => await Until(() => Task.FromResult(condition()), what);

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
