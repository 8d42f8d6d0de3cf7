namespace JobDedup.Testing;

/// <summary>Holds a handler open until the test opens it, and tells the test when the handler got there.</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrivals;

    public int Arrivals => Volatile.Read(ref _arrivals);

    /// <summary>Completes when a handler first waits at the gate.</summary>
    public Task Reached => _reached.Task;

    public async Task WaitAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _arrivals);
        _reached.TrySetResult();
        await _open.Task.WaitAsync(cancellationToken);
    }

    public void Open() => _open.TrySetResult();
}
