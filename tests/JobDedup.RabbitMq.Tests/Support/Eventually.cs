namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Watches for a state that must (or must not) be reached within a bounded time, without failing by itself.</summary>
internal static class Eventually
{
    /// <summary>How long a test watches for something that must not happen, or for a recovery that should be quick.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>Returns whether <paramref name="condition"/> held within <paramref name="limit"/>.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? limit = null) =>
        HoldsAsync(() => Task.FromResult(condition()), limit);

    /// <summary>Returns whether the asynchronous <paramref name="condition"/> held within <paramref name="limit"/>.</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Window);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }
}
