using System.Diagnostics;

namespace JobDedup.Flights;

/// <summary>
/// The debounced start of one flight: due once the key has been quiet for the delay since its latest arrival, and
/// never later than the maximum wait after its first. The due time is kept as a clock timestamp; the one timer fires
/// at the due time known when it was armed and, if an arrival pushed the start back meanwhile, arms itself again for
/// the rest, so an arrival costs no timer change.
/// </summary>
internal sealed class DebounceTimer : IDisposable
{
    private readonly Lock _dueLock = new();
    private readonly TimeProvider _time;
    private readonly long _delay;
    private readonly long _latest;
    private readonly TaskCompletionSource _elapsed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _due;
    private DebounceState _state;
    private ITimer? _timer;

    /// <summary>Starts the debounce at the first arrival, now, and arms its timer.</summary>
    /// <remarks>
    /// The timer is armed here, on the thread that read the clock, rather than when the flight first waits: between
    /// reading the clock and arming, a clock moved on by another thread (a test's fake clock jumping seconds) would
    /// have the timer fire that much late.
    /// </remarks>
    /// <param name="time">The deduplicator's clock.</param>
    /// <param name="delay">How long the key must be quiet.</param>
    /// <param name="maxWait">The longest wait after the first arrival.</param>
    public DebounceTimer(TimeProvider time, TimeSpan delay, TimeSpan maxWait)
    {
        _time = time;
        _delay = ToTicks(time, delay);
        var now = time.GetTimestamp();
        _latest = now + ToTicks(time, maxWait);
        _due = Math.Min(now + _delay, _latest);
        var remaining = _due - now;
        if (remaining <= 0)
        {
            _state = DebounceState.Elapsed;
            _elapsed.TrySetResult();
            return;
        }

        // No one else sees this instance yet; the lock is taken for the timer's first tick, which may come at once.
        lock (_dueLock)
        {
            _timer = _time.CreateTimer(static s => ((DebounceTimer)s!).OnTick(), this, ToSpan(remaining), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets where the debounce is.</summary>
    public DebounceState State
    {
        get
        {
            lock (_dueLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Pushes the start back to the delay after now, but not past the maximum wait.</summary>
    /// <returns><see langword="false"/> when the start is no longer waiting: the arrival cannot move it.</returns>
    public bool TryExtend()
    {
        lock (_dueLock)
        {
            if (_state != DebounceState.Waiting)
            {
                return false;
            }

            _due = Math.Min(_time.GetTimestamp() + _delay, _latest);
            AssertInvariants();
            return true;
        }
    }

    /// <summary>Waits until the start is due.</summary>
    /// <param name="cancellationToken">Fires when the flight is abandoned or shutdown begins.</param>
    public Task WaitAsync(CancellationToken cancellationToken) => _elapsed.Task.WaitAsync(cancellationToken);

    /// <summary>Stops a debounce that has not elapsed and frees its timer.</summary>
    public void Dispose()
    {
        ITimer? timer;
        lock (_dueLock)
        {
            if (_state == DebounceState.Waiting)
            {
                _state = DebounceState.Stopped;
            }

            timer = _timer;
            _timer = null;
            AssertInvariants();
        }

        timer?.Dispose();
    }

    private static long ToTicks(TimeProvider time, TimeSpan span) => (long)(span.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    private TimeSpan ToSpan(long timestampTicks) =>
        TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(timestampTicks * (TimeSpan.TicksPerSecond / (double)_time.TimestampFrequency))));

    private void OnTick()
    {
        lock (_dueLock)
        {
            if (_state != DebounceState.Waiting)
            {
                return;
            }

            var remaining = _due - _time.GetTimestamp();
            if (remaining > 0)
            {
                // An arrival pushed the start back after the timer was armed.
                _timer?.Change(ToSpan(remaining), Timeout.InfiniteTimeSpan);
                return;
            }

            _state = DebounceState.Elapsed;
            AssertInvariants();
        }

        _elapsed.TrySetResult();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_due <= _latest, "The start is never due after the maximum wait.");
        Debug.Assert(_state != DebounceState.Stopped || _timer is null, "A stopped debounce holds no timer.");
        Debug.Assert(_state != DebounceState.Waiting || !_elapsed.Task.IsCompleted, "A waiting debounce has not signalled its start.");
    }
}
