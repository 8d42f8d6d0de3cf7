namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// A clock whose timers, once armed, fire on a task of their own at a point the schedule picks (as soon as the next
/// step, or much later), so that Coyote explores every order of a timer against the work around it.
/// </summary>
internal sealed class ScheduledTimeProvider : TimeProvider
{
    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ScheduledTimer(callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ScheduledTimer(TimerCallback callback, object? state) : ITimer
    {
        private int _armed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var arm = dueTime != Timeout.InfiniteTimeSpan;
            if (Interlocked.Exchange(ref _armed, arm ? 1 : 0) == 0 && arm)
            {
                _ = Task.Run(async () =>
                {
                    await Task.Yield();
                    if (Interlocked.Exchange(ref _armed, 0) == 1)
                    {
                        callback(state);
                    }
                });
            }

            return true;
        }

        public void Dispose() => Volatile.Write(ref _armed, 0);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
