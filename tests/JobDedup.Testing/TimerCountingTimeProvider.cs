using Microsoft.Extensions.Time.Testing;

namespace JobDedup.Testing;

/// <summary>
/// <see cref="FakeTimeProvider"/> that also counts its armed timers, so that a test can wait until the code under test
/// armed one (a retry delay, a renewal, a shutdown timeout) before it moves the clock, and can check none is left.
/// </summary>
public sealed class TimerCountingTimeProvider : FakeTimeProvider
{
    private readonly Lock _sync = new();
    private readonly HashSet<CountedTimer> _armed = [];

    /// <summary>Gets how many timers are waiting to fire.</summary>
    public int PendingTimers
    {
        get
        {
            lock (_sync)
            {
                return _armed.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var counted = new CountedTimer(this, period);
        Track(counted, dueTime);
        counted.Inner = base.CreateTimer(
            s =>
            {
                counted.Fired();
                callback(s);
            },
            state,
            dueTime,
            period);
        return counted;
    }

    private void Track(CountedTimer timer, TimeSpan dueTime)
    {
        lock (_sync)
        {
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                _armed.Remove(timer);
            }
            else
            {
                _armed.Add(timer);
            }
        }
    }

    private void Untrack(CountedTimer timer)
    {
        lock (_sync)
        {
            _armed.Remove(timer);
        }
    }

    private sealed class CountedTimer(TimerCountingTimeProvider owner, TimeSpan period) : ITimer
    {
        private TimeSpan _period = period;

        public ITimer? Inner { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            owner.Track(this, dueTime);
            return Inner!.Change(dueTime, period);
        }

        public void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                owner.Untrack(this); // a one-shot timer is spent once it fired
            }
        }

        public void Dispose()
        {
            owner.Untrack(this);
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
