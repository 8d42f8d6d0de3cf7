using JobDedup.Flights;

namespace JobDedup.SharedCalls;

/// <summary>
/// A flight started by <see cref="SharedCall{TKey, TResult}"/>. Its outcome is one task shared by every caller, so
/// joining with a token that cannot be canceled allocates nothing.
/// </summary>
internal sealed class SharedFlight<TKey, TResult> : Flight<TKey>
    where TKey : notnull
{
    // null while running with no one waiting on a shared task; a TaskCompletionSource once a caller waits;
    // the finished work task once the flight is done.
    private object? _completion;

    public SharedFlight(TKey key, bool cancellable, bool runToCompletionWhenAbandoned, KeyOwner<TKey>? predecessor)
        : base(key, cancellable, runToCompletionWhenAbandoned, predecessor)
    {
    }

    /// <summary>Returns the task every caller of this flight awaits; created on first need, then shared.</summary>
    public Task<TResult> GetTask()
    {
        var current = Volatile.Read(ref _completion);
        if (current is null)
        {
            // Continuations run asynchronously, so no caller's continuation runs on the thread completing the flight.
            var created = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            current = Interlocked.CompareExchange(ref _completion, created, null) ?? created;
        }

        return current as Task<TResult> ?? ((TaskCompletionSource<TResult>)current).Task;
    }

    /// <summary>Publishes the finished work task to every caller.</summary>
    public void Complete(Task<TResult> finished)
    {
        if (Interlocked.Exchange(ref _completion, finished) is TaskCompletionSource<TResult> waiting)
        {
            waiting.TrySetFromTask(finished);

            // Every caller may have left already; the failure was counted, so mark it observed.
            _ = waiting.Task.Exception;
        }
    }
}
