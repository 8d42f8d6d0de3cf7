using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace JobDedup.Concurrency.Controlled;

/// <summary>
/// Static stand-ins, written as plain async code, for BCL calls whose continuations Coyote 1.7.11 cannot see (thread-pool work items, ContinueWith, WaitAsync, channels). Each
/// takes the receiver of the instance method it replaces as its first parameter and keeps its meaning: the same
/// result, exception or cancellation, with continuations that run later rather than inline (which the BCL allows).
/// </summary>
[SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Each signature mirrors the BCL method it stands in for, parameter by parameter.")]
public static class ControlledCalls
{
    /// <summary>Stands in for <c>ThreadPool.UnsafeQueueUserWorkItem(IThreadPoolWorkItem, bool)</c>.</summary>
    public static bool UnsafeQueueUserWorkItem(IThreadPoolWorkItem callBack, bool preferLocal)
    {
        ArgumentNullException.ThrowIfNull(callBack);
        _ = Task.Run(callBack.Execute);
        return true;
    }

    /// <summary>Stands in for <c>Channel.CreateBounded&lt;T&gt;(BoundedChannelOptions)</c> (the Wait full mode only).</summary>
    public static Channel<T> CreateBounded<T>(BoundedChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FullMode == BoundedChannelFullMode.Wait
            ? new ControlledChannel<T>(options.Capacity)
            : throw new NotSupportedException($"The controlled channel supports BoundedChannelFullMode.Wait only, not {options.FullMode}.");
    }

    /// <summary>Stands in for <c>Channel.CreateBounded&lt;T&gt;(int)</c>.</summary>
    public static Channel<T> CreateBounded<T>(int capacity) => new ControlledChannel<T>(capacity);

    /// <summary>Stands in for <c>Channel.CreateUnbounded&lt;T&gt;(UnboundedChannelOptions)</c>.</summary>
    public static Channel<T> CreateUnbounded<T>(UnboundedChannelOptions options) => new ControlledChannel<T>(int.MaxValue);

    /// <summary>Stands in for <c>Channel.CreateUnbounded&lt;T&gt;()</c>.</summary>
    public static Channel<T> CreateUnbounded<T>() => new ControlledChannel<T>(int.MaxValue);

    /// <summary>Stands in for <c>Task.ContinueWith(Action&lt;Task&gt;, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task ContinueWith(Task antecedent, Action<Task> continuationAction, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, continuationAction, static (action, task) => action(task), continuationOptions);

    /// <summary>Stands in for <c>Task.ContinueWith(Action&lt;Task, object&gt;, object, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task ContinueWith(Task antecedent, Action<Task, object?> continuationAction, object? state, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, (continuationAction, state), static (s, task) => s.continuationAction(task, s.state), continuationOptions);

    /// <summary>Stands in for <c>Task&lt;TResult&gt;.ContinueWith(Action&lt;Task&lt;TResult&gt;&gt;, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task ContinueWith<TResult>(Task<TResult> antecedent, Action<Task<TResult>> continuationAction, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, continuationAction, static (action, task) => action((Task<TResult>)task), continuationOptions);

    /// <summary>Stands in for <c>Task&lt;TResult&gt;.ContinueWith(Action&lt;Task&lt;TResult&gt;, object&gt;, object, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task ContinueWith<TResult>(Task<TResult> antecedent, Action<Task<TResult>, object?> continuationAction, object? state, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, (continuationAction, state), static (s, task) => s.continuationAction((Task<TResult>)task, s.state), continuationOptions);

    /// <summary>Stands in for <c>Task.ContinueWith&lt;TContinuation&gt;(Func&lt;Task, object, TContinuation&gt;, object, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task<TContinuation> ContinueWith<TContinuation>(Task antecedent, Func<Task, object?, TContinuation> continuationFunction, object? state, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, (continuationFunction, state), static (s, task) => s.continuationFunction(task, s.state), continuationOptions);

    /// <summary>Stands in for <c>Task&lt;TResult&gt;.ContinueWith&lt;TContinuation&gt;(Func&lt;Task&lt;TResult&gt;, TContinuation&gt;, CancellationToken, TaskContinuationOptions, TaskScheduler)</c>.</summary>
    public static Task<TContinuation> ContinueWith<TResult, TContinuation>(Task<TResult> antecedent, Func<Task<TResult>, TContinuation> continuationFunction, CancellationToken cancellationToken, TaskContinuationOptions continuationOptions, TaskScheduler scheduler) =>
        ContinueAsync(antecedent, continuationFunction, static (function, task) => function((Task<TResult>)task), continuationOptions);

    /// <summary>Stands in for <c>Task.WaitAsync(CancellationToken)</c>.</summary>
    public static Task WaitAsync(Task task, CancellationToken cancellationToken) =>
        WaitAsync(task, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    /// <summary>Stands in for <c>Task&lt;TResult&gt;.WaitAsync(CancellationToken)</c>.</summary>
    public static Task<TResult> WaitAsync<TResult>(Task<TResult> task, CancellationToken cancellationToken) =>
        WaitAsync(task, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    /// <summary>
    /// Stands in for <c>Task.WaitAsync(TimeSpan, TimeProvider, CancellationToken)</c>. The timeout is a controlled
    /// delay, so the testing engine decides when it fires; the clock passed in is not read.
    /// </summary>
    public static async Task WaitAsync(Task task, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        await await FirstOf(task, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stands in for <c>Task&lt;TResult&gt;.WaitAsync(TimeSpan, TimeProvider, CancellationToken)</c>.</summary>
    public static async Task<TResult> WaitAsync<TResult>(Task<TResult> task, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        await await FirstOf(task, timeout, cancellationToken).ConfigureAwait(false);
        return await task.ConfigureAwait(false);
    }

    /// <summary>Returns the first of the task, its timeout (as a faulted task) and its cancellation (as a canceled task).</summary>
    private static async Task<Task> FirstOf(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted || (!cancellationToken.CanBeCanceled && timeout == Timeout.InfiniteTimeSpan))
        {
            await Settle(task).ConfigureAwait(false);
            return task;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Unregistered, not disposed, below: disposing waits, outside the engine's view, for a callback in progress.
        var registration = cancellationToken.Register(() => stop.TrySetCanceled(cancellationToken));
        // Each wait is an await inside an async method: Coyote 1.7.11 sees a task completion source's task complete
        // through an await, not through Task.WhenAny.
        var ended = Settle(task);
        var waits = new List<Task> { ended, Settle(stop.Task) };
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            waits.Add(Task.Delay(timeout, cancellationToken));
        }

        var first = await Task.WhenAny(waits).ConfigureAwait(false);
        registration.Unregister();
        if (first == ended || task.IsCompleted)
        {
            return task;
        }

        return cancellationToken.IsCancellationRequested
            ? Task.FromCanceled(cancellationToken)
            : Task.FromException(new TimeoutException());
    }

    private static Task<bool> ContinueAsync<TState>(Task antecedent, TState state, Action<TState, Task> continuation, TaskContinuationOptions options) =>
        ContinueAsync(antecedent, (state, continuation), static (s, task) =>
        {
            s.continuation(s.state, task);
            return true;
        }, options);

    private static async Task<TContinuation> ContinueAsync<TState, TContinuation>(Task antecedent, TState state, Func<TState, Task, TContinuation> continuation, TaskContinuationOptions options)
    {
        ArgumentNullException.ThrowIfNull(antecedent);
        await Settle(antecedent).ConfigureAwait(false);
        var skipped =
            ((options & TaskContinuationOptions.OnlyOnFaulted) != 0 && !antecedent.IsFaulted) ||
            ((options & TaskContinuationOptions.OnlyOnRanToCompletion) != 0 && !antecedent.IsCompletedSuccessfully) ||
            ((options & TaskContinuationOptions.OnlyOnCanceled) != 0 && !antecedent.IsCanceled);
        return skipped ? throw new TaskCanceledException(antecedent) : continuation(state, antecedent);
    }

    /// <summary>Waits for the task to end, whatever its end, without throwing.</summary>
    private static async Task Settle(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Only the end matters here; the caller reads the task itself.
        }
    }
}
