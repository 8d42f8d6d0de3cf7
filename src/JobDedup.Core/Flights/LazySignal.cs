namespace JobDedup.Flights;

/// <summary>
/// A one-shot signal kept in a single object field, which allocates a task only when someone waits before it is
/// set: null while unset with nobody waiting, a TaskCompletionSource once someone waits, <see cref="SetMarker"/> once set.
/// </summary>
internal static class LazySignal
{
    private static readonly object SetMarker = new();

    public static bool IsSet(ref object? slot) => ReferenceEquals(Volatile.Read(ref slot), SetMarker);

    public static Task Wait(ref object? slot)
    {
        var current = Volatile.Read(ref slot);
        while (true)
        {
            if (ReferenceEquals(current, SetMarker))
            {
                return Task.CompletedTask;
            }

            if (current is TaskCompletionSource waiting)
            {
                return waiting.Task;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var seen = Interlocked.CompareExchange(ref slot, created, null);
            if (seen is null)
            {
                return created.Task;
            }

            current = seen;
        }
    }

    public static void Set(ref object? slot)
    {
        if (Interlocked.Exchange(ref slot, SetMarker) is TaskCompletionSource waiting)
        {
            waiting.TrySetResult();
        }
    }
}
