using System.Threading.Channels;
using JobDedup.Flights;
using JobDedup.Lifecycle;
using JobDedup.Running;
using JobDedup.Telemetry;
using JobDedup.Window;

namespace JobDedup.Dispatching;

/// <summary>
/// The single reader of the queue and the only creator of job flights. For each caller it decides: answer from the
/// dedupe window, join the flight that holds the key, or start a new flight (after the key's previous owner, if one
/// still holds it).
/// </summary>
internal sealed class Dispatcher<TJob, TResult>
{
    private readonly ChannelReader<JobWaiter<TJob, TResult>> _queue;
    private readonly FlightTable<string> _table;
    private readonly DedupeWindow<TResult>? _window;
    private readonly FlightRunner<TJob, TResult> _runner;
    private readonly ShutdownCoordinator<TJob, TResult> _shutdown;
    private readonly FlightCounters _counters;
    private readonly DeduplicatorMetrics _metrics;
    private readonly EngineLog _log;
    private readonly int _maxWaitersPerKey;
    private readonly bool _runToCompletionWhenAbandoned;

    public Dispatcher(
        ChannelReader<JobWaiter<TJob, TResult>> queue,
        FlightTable<string> table,
        DedupeWindow<TResult>? window,
        FlightRunner<TJob, TResult> runner,
        ShutdownCoordinator<TJob, TResult> shutdown,
        FlightCounters counters,
        DeduplicatorMetrics metrics,
        EngineLog log,
        int maxWaitersPerKey,
        bool runToCompletionWhenAbandoned)
    {
        _queue = queue;
        _table = table;
        _window = window;
        _runner = runner;
        _shutdown = shutdown;
        _counters = counters;
        _metrics = metrics;
        _log = log;
        _maxWaitersPerKey = maxWaitersPerKey;
        _runToCompletionWhenAbandoned = runToCompletionWhenAbandoned;
    }

    /// <summary>Reads the queue until it is completed and empty. Nothing escapes the loop: a failure is logged and it reads on.</summary>
    public async Task RunAsync()
    {
        while (true)
        {
            try
            {
                while (await _queue.WaitToReadAsync().ConfigureAwait(false))
                {
                    while (_queue.TryRead(out var waiter))
                    {
                        _metrics.Queued(-1);
                        Dispatch(waiter);
                    }
                }

                return;
            }
            catch (Exception ex)
            {
                _log.Write(static (logger, name, ex) => Log.DispatcherLoopFailed(logger, name, ex), ex);
            }
        }
    }

    private void Dispatch(JobWaiter<TJob, TResult> waiter)
    {
        try
        {
            DispatchCore(waiter);
        }
        catch (Exception ex)
        {
            // The caller first, then the log: a failing logger must not leave it waiting.
            waiter.Complete(JobOutcome<TResult>.Failed(waiter.Key, ex, JobRole.None, 0));
            _log.Write(static (logger, name, s) => Log.DispatchFailed(logger, name, s.Key, s.ex), (waiter.Key, ex));
        }
    }

    private void DispatchCore(JobWaiter<TJob, TResult> waiter)
    {
        if (!waiter.IsWaiting)
        {
            return; // the caller left while queued
        }

        if (_shutdown.IsStopping)
        {
            // Nothing new starts once shutdown began.
            waiter.Complete(JobDeduplicatorOutcomes.ShuttingDown<TResult>(waiter.Key, JobRole.None, 0));
            return;
        }

        while (true)
        {
            var owner = _table.Find(waiter.Key);
            if (owner is JobFlight<TJob, TResult> held && RefusedAsConflict(held, waiter))
            {
                return;
            }

            if (owner is JobFlight<TJob, TResult> flight && flight.TryJoin())
            {
                Join(flight, waiter);
                return;
            }

            if (owner is { IsReleased: true })
            {
                owner = null;
            }

            var lookup = WindowLookup<TResult>.None;
            if (owner is null && _window?.TryGetNow(waiter.Key, out lookup) is { } stored)
            {
                var answer = KeptOutcome.Answer(waiter.Key, waiter.Fingerprint, stored);
                if (answer.Status == JobStatus.Conflict)
                {
                    Conflicted(waiter, answer);
                }
                else if (waiter.Complete(answer))
                {
                    _counters.Hit();
                    _metrics.Enqueued(JobRole.Replayed);
                }

                return;
            }

            // A flight whose leader cannot leave can never be abandoned (that caller waits to the end), so it needs no
            // token source of its own: shutdown reaches it through the deduplicator's tokens.
            var created = new JobFlight<TJob, TResult>(
                _runner,
                waiter,
                canBeAbandoned: waiter.CanLeave && !_runToCompletionWhenAbandoned,
                _runToCompletionWhenAbandoned,
                owner,
                lookup,
                _shutdown.Stopping,
                _shutdown.GaveUp);
            if (_table.TryReplace(created, owner))
            {
                _shutdown.Track(created);
                waiter.MarkAttached(created, JobRole.Leader);
                ThreadPool.UnsafeQueueUserWorkItem(created, preferLocal: false);
                return;
            }

            // Forget replaced the owner meanwhile: decide again.
        }
    }

    private void Join(JobFlight<TJob, TResult> flight, JobWaiter<TJob, TResult> waiter)
    {
        if (flight.AttachedCount > _maxWaitersPerKey)
        {
            flight.Leave();
            waiter.Complete(JobOutcome<TResult>.Rejected(waiter.Key, new JobRejectedException(
                $"Key '{waiter.Key}' of deduplicator '{_log.Name}' already has {_maxWaitersPerKey} callers waiting (MaxWaitersPerKey).")));
            return;
        }

        if (waiter.Trace is not null)
        {
            waiter.StartJoinSpan(_log.Name);
        }

        if (flight.Waiters.TryAdd(waiter, _maxWaitersPerKey, flight.AttachedCount))
        {
            waiter.MarkAttached(flight, JobRole.Joined);
        }

        _counters.Hit();
        _metrics.Enqueued(JobRole.Joined);
    }

    /// <summary>
    /// Refuses a job whose payload fingerprint differs from that of the flight in progress for its key. Checked before
    /// any duplicate policy: a different request under the same key is never joined, nor queued behind the run. A
    /// flight that already completed is not compared here: its kept outcome, if any, is compared when it is read.
    /// </summary>
    /// <returns><see langword="true"/> when the job was refused.</returns>
    private bool RefusedAsConflict(JobFlight<TJob, TResult> flight, JobWaiter<TJob, TResult> waiter)
    {
        if (flight.Phase is not (FlightPhase.Pending or FlightPhase.Running) ||
            !FingerprintCheck.TryGetConflict<TResult>(waiter.Key, waiter.Fingerprint, flight.Fingerprint, out var conflict))
        {
            return false;
        }

        Conflicted(waiter, conflict);
        return true;
    }

    private void Conflicted(JobWaiter<TJob, TResult> waiter, in JobOutcome<TResult> conflict)
    {
        if (waiter.Complete(conflict))
        {
            _counters.Conflict();
            _metrics.Conflicted();
        }
    }
}
