using System.Threading.Channels;

namespace JobDedup.Concurrency.Controlled;

/// <summary>
/// A bounded first-in first-out channel built from a lock and task completion sources only, so that under Coyote
/// every wait on it is a controlled one (the BCL's channels complete their waiters from the thread pool).
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class ControlledChannel<T> : Channel<T>
{
    private readonly object _gate = new();
    private readonly Queue<T> _items = new();
    private readonly List<TaskCompletionSource<bool>> _readers = [];
    private readonly List<TaskCompletionSource<bool>> _writers = [];
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _capacity;
    private bool _completed;

    public ControlledChannel(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        Reader = new ControlledChannelReader<T>(this);
        Writer = new ControlledChannelWriter<T>(this);
    }

    public Task Completion => _completion.Task;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    public bool TryWrite(T item)
    {
        List<TaskCompletionSource<bool>> readers;
        lock (_gate)
        {
            if (_completed || _items.Count >= _capacity)
            {
                return false;
            }

            _items.Enqueue(item);
            readers = Take(_readers);
        }

        Release(readers, true);
        return true;
    }

    public bool TryRead(out T item)
    {
        List<TaskCompletionSource<bool>> writers;
        var drained = false;
        lock (_gate)
        {
            if (!_items.TryDequeue(out item!))
            {
                return false;
            }

            writers = Take(_writers);
            drained = _completed && _items.Count == 0;
        }

        Release(writers, true);
        if (drained)
        {
            _completion.TrySetResult();
        }

        return true;
    }

    public bool TryComplete()
    {
        List<TaskCompletionSource<bool>> readers;
        List<TaskCompletionSource<bool>> writers;
        bool drained;
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            readers = Take(_readers);
            writers = Take(_writers);
            drained = _items.Count == 0;
        }

        Release(readers, false);
        Release(writers, false);
        if (drained)
        {
            _completion.TrySetResult();
        }

        return true;
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        WaitAsync(static channel => channel._items.Count > 0 ? true : channel._completed ? false : null, _readers, cancellationToken);

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) =>
        WaitAsync(static channel => channel._completed ? false : channel._items.Count < channel._capacity ? true : null, _writers, cancellationToken);

    private static List<TaskCompletionSource<bool>> Take(List<TaskCompletionSource<bool>> waiters)
    {
        var taken = new List<TaskCompletionSource<bool>>(waiters);
        waiters.Clear();
        return taken;
    }

    private static void Release(List<TaskCompletionSource<bool>> waiters, bool result)
    {
        foreach (var waiter in waiters)
        {
            waiter.TrySetResult(result);
        }
    }

    /// <summary>Answers at once when <paramref name="ready"/> knows; otherwise waits in <paramref name="waiters"/> to be told.</summary>
    private async ValueTask<bool> WaitAsync(Func<ControlledChannel<T>, bool?> ready, List<TaskCompletionSource<bool>> waiters, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TaskCompletionSource<bool> waiter;
            lock (_gate)
            {
                if (ready(this) is { } answer)
                {
                    return answer;
                }

                waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters.Add(waiter);
            }

            // Unregistered, not disposed: disposing waits, outside the engine's view, for a callback in progress.
            var registration = cancellationToken.Register(static state => ((TaskCompletionSource<bool>)state!).TrySetCanceled(), waiter);
            try
            {
                await waiter.Task.ConfigureAwait(false);
            }
            finally
            {
                registration.Unregister();
            }
        }
    }
}
