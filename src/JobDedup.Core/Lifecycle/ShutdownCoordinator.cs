using System.Diagnostics.CodeAnalysis;
using JobDedup.Flights;
using JobDedup.Internal;
using JobDedup.Telemetry;

namespace JobDedup.Lifecycle;

/// <summary>
/// Shutdown of one deduplicator: stop intake, let running handlers finish within the timeout, cancel the rest; every
/// caller gets an outcome. Knows every flight that is running or waiting to run.
/// </summary>
[SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The token sources have no timers; handlers left behind may still hold their tokens after shutdown.")]
internal sealed class ShutdownCoordinator<TJob, TResult>
{
    private readonly HashSet<JobFlight<TJob, TResult>> _active = [];
    private readonly Lock _activeLock = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Fires when shutdown begins (ends the waits of flights that have no token source of their own), and when it gives
    // up on running handlers (their handler token).
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly EngineLog _log;
    private int _stopRequested;

    public ShutdownCoordinator(TimeSpan timeout, TimeProvider timeProvider, EngineLog log)
    {
        _timeout = timeout;
        _timeProvider = timeProvider;
        _log = log;
    }

    public bool IsStopping => Volatile.Read(ref _stopRequested) != 0;

    /// <summary>Gets the token that fires when shutdown begins.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Gets the token that fires when shutdown gives up on running handlers.</summary>
    public CancellationToken GaveUp => _shutdown.Token;

    public void Track(JobFlight<TJob, TResult> flight)
    {
        lock (_activeLock)
        {
            _active.Add(flight);
        }
    }

    public void Untrack(JobFlight<TJob, TResult> flight)
    {
        lock (_activeLock)
        {
            _active.Remove(flight);
        }
    }

    /// <summary>Begins the stop once; every call returns the same task.</summary>
    /// <param name="drainQueue">Closes the queue and waits until the dispatcher has drained it.</param>
    /// <param name="giveUp">Gives a flight still running after the timeout its canceled outcome.</param>
    /// <param name="cancellationToken">Cuts the wait for running handlers short.</param>
    public Task StopAsync(Func<Task> drainQueue, Action<JobFlight<TJob, TResult>> giveUp, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            _ = StopCoreAsync(drainQueue, giveUp, cancellationToken);
        }

        return _stopped.Task;
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's cancellation callback threw; the token fired all the same.
        }
    }

    private async Task StopCoreAsync(Func<Task> drainQueue, Action<JobFlight<TJob, TResult>> giveUp, CancellationToken cancellationToken)
    {
        try
        {
            // Queued jobs drain as canceled; no flight is created afterwards, so the set below is every flight there is.
            await drainQueue().ConfigureAwait(false);
            CancelQuietly(_stopping);

            var flights = Active();
            var waiting = 0;
            foreach (var flight in flights)
            {
                if (flight.Phase == FlightPhase.Pending)
                {
                    waiting++;
                    flight.CancelHandler();
                }
            }

            _log.Write(static (logger, name, s) => Log.Stopping(logger, name, s.Running, s.waiting), (Running: flights.Length - waiting, waiting));
            try
            {
                // Every caller answered and every handler ended, a handler left behind after its timeout included.
                await TaskEnd.WhenAllEnded(flights.SelectMany(static f => new[] { f.WhenDelivered(), f.WhenRunEnded() }))
                    .WaitAsync(_timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                var late = flights.Where(static f => !f.WhenDelivered().IsCompleted || !f.WhenRunEnded().IsCompleted).ToArray();
                if (late.Length > 0)
                {
                    _log.Write(static (logger, name, count) => Log.ShutdownTimedOut(logger, name, count), late.Length);
                }

                CancelQuietly(_shutdown);
                foreach (var flight in late)
                {
                    flight.CancelHandler();
                    giveUp(flight); // a no-op for a flight that delivered already and only its handler runs on
                }

                // A flight whose own run was delivering its outcome just then finishes that first: the stop ends only
                // when every caller has an outcome.
                await TaskEnd.WhenAllEnded(late.Select(static f => f.WhenDelivered())).ConfigureAwait(false);
            }

            _log.Write(static (logger, name, _) => Log.Stopped(logger, name), 0);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private JobFlight<TJob, TResult>[] Active()
    {
        lock (_activeLock)
        {
            return [.. _active];
        }
    }
}
