namespace JobDedup.Testing;

/// <summary>
/// Holds the store calls it was scripted on until the test opens it (they then go on to the in-memory store) or
/// fails it (they then fault). Tells the test when a call got there.
/// </summary>
public sealed class StoreGate
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes when the first call reaches the gate.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Gets a task that completes when the first held call has left the store (gone through, or faulted).</summary>
    public Task Finished => _finished.Task;

    /// <summary>Lets every held call, and every later one, through to the in-memory store.</summary>
    public void Open() => _release.TrySetResult();

    /// <summary>Makes every held call, and every later one, fault with <paramref name="exception"/>.</summary>
    public void Fail(Exception exception)
    {
        _release.TrySetException(exception);
        _ = _release.Task.Exception; // observed here: the calls that wait get it; a gate nobody reached leaks nothing
    }

    internal void Leave() => _finished.TrySetResult();

    internal Task ArriveAsync()
    {
        _reached.TrySetResult();
        return _release.Task;
    }

    internal void ArriveAndBlock()
    {
        var released = ArriveAsync();
        if (Task.WaitAny([released], Watchdog.Limit) < 0)
        {
            throw new TimeoutException("A store call blocked at a gate the test never opened.");
        }

        released.GetAwaiter().GetResult();
    }
}
