namespace JobDedup.Internal;

/// <summary>Waiting for a task to end whatever its result, where its failure is reported elsewhere.</summary>
internal static class TaskEnd
{
    /// <summary>
    /// Returns a task that completes when every task has ended, none faulting it. Awaited one by one rather than
    /// through <c>Task.WhenAll</c>, whose completion the systematic concurrency tests cannot follow.
    /// </summary>
    public static async Task WhenAllEnded(IEnumerable<Task> tasks)
    {
        foreach (var task in tasks)
        {
            await task.WhenEnded().ConfigureAwait(false);
        }
    }

    /// <summary>Returns a task that completes when <paramref name="task"/> ends, and never faults; the failure is observed.</summary>
    public static Task WhenEnded(this Task task) =>
        task.IsCompleted && !task.IsFaulted
            ? Task.CompletedTask
            : task.ContinueWith(
                static t => { _ = t.Exception; },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
}
