using System.Collections.Concurrent;

namespace JobDedup.Testing;

/// <summary>
/// A synchronization context with one thread of its own, like a UI thread: work posted to it runs there, one item
/// at a time, with this context current. Lets a test cancel (or call anything) from a thread that has a context.
/// </summary>
public sealed class SingleThreadSynchronizationContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private readonly Thread _thread;

    public SingleThreadSynchronizationContext()
    {
        _thread = new Thread(Pump) { IsBackground = true, Name = "test synchronization context" };
        _thread.Start();
    }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Post to this context; a test never blocks on it.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs <paramref name="action"/> on the context's thread and returns what it returned.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The work.</param>
    /// <returns>A task that completes with the result once the work ran.</returns>
    public Task<T> RunAsync<T>(Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(
            _ =>
            {
                try
                {
                    done.SetResult(action());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            null);
        return done.Task;
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(Watchdog.Limit);
        _queue.Dispose();
    }

    private void Pump()
    {
        SetSynchronizationContext(this);
        foreach (var (callback, state) in _queue.GetConsumingEnumerable())
        {
            callback(state);
        }
    }
}
