using System.Runtime.InteropServices;

namespace JobDedup.Benchmarks.Baselines;

/// <summary>
/// Go's <c>singleflight.Group</c> shape ported to tasks: one lock around a plain dictionary of calls. The first caller
/// adds a call and runs the work outside the lock; the others take the call's task; the finished call is deleted
/// under the lock, then completed.
/// </summary>
public sealed class LockCoalescer<TKey, TResult>
    where TKey : notnull
{
    private readonly Lock _sync = new();
    private readonly Dictionary<TKey, Call> _calls = [];

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _calls.Count;
            }
        }
    }

    public Task<TResult> RunAsync<TState>(TKey key, TState state, Func<TState, Task<TResult>> work, CancellationToken cancellationToken = default)
    {
        Call call;
        lock (_sync)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_calls, key, out var exists);
            if (exists)
            {
                return slot!.Task.WaitAsync(cancellationToken);
            }

            slot = call = new Call(this, key);
        }

        Task<TResult> task;
        try
        {
            task = work(state);
        }
        catch (Exception ex)
        {
            task = Task.FromException<TResult>(ex);
        }

        if (task.IsCompleted)
        {
            Finish(call, task);
            return task;
        }

        _ = task.ContinueWith(
            static (t, s) => ((Call)s!).Owner.Finish((Call)s!, t),
            call,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return call.Task.WaitAsync(cancellationToken);
    }

    private void Finish(Call call, Task<TResult> finished)
    {
        lock (_sync)
        {
            _calls.Remove(call.Key);
        }

        call.TrySetFromTask(finished);
    }

    private sealed class Call(LockCoalescer<TKey, TResult> owner, TKey key)
        : TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public LockCoalescer<TKey, TResult> Owner { get; } = owner;

        public TKey Key { get; } = key;
    }
}
