using System.Threading.Channels;
using JobDedup.Conflicts;
using JobDedup.Flights;
using JobDedup.Lifecycle;
using JobDedup.Running;
using JobDedup.Telemetry;
using JobDedup.Window;

namespace JobDedup.Dispatching;

/// <summary>
/// The single reader of the queue and the only creator of job flights. For each caller it decides, by the duplicate
/// policy (<see cref="DuplicateDecision"/>): answer from the dedupe window, join the flight that holds the key (and
/// perhaps give it this job), refuse the job, or start a new flight (after the key's previous owner, if one still
/// holds it).
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
    private readonly DuplicatePolicy _policy;
    private readonly TimeProvider _timeProvider;

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
        bool runToCompletionWhenAbandoned,
        DuplicatePolicy policy,
        TimeProvider timeProvider)
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
        _policy = policy;
        _timeProvider = timeProvider;
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
            // A different request under the same key is refused before any duplicate policy applies.
            if (owner is JobFlight<TJob, TResult> held && RefusedAsConflict(held, waiter))
            {
                return;
            }

            if (owner is { IsReleased: true })
            {
                owner = null;
            }

            var action = DuplicateDecision.Decide(_policy.Kind, HolderOf(owner));
            switch (action)
            {
                case DuplicateAction.Reject:
                    RejectDuplicate(waiter);
                    return;

                case DuplicateAction.Join or DuplicateAction.ReplaceJob or DuplicateAction.Extend:
                    var flight = (JobFlight<TJob, TResult>)owner!;
                    if (flight.TryJoin() && Join(flight, waiter, action))
                    {
                        return;
                    }

                    continue; // the flight moved on meanwhile (started, abandoned or completed): decide again

                case DuplicateAction.StartPending:
                    if (TryStart(waiter, owner, WindowLookup<TResult>.None, followsRun: true))
                    {
                        return;
                    }

                    continue;
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

            if (TryStart(waiter, owner, lookup, followsRun: false))
            {
                return;
            }

            // Forget replaced the owner meanwhile: decide again.
        }
    }

    private static KeyHolder HolderOf(KeyOwner<string>? owner) => owner switch
    {
        null => KeyHolder.None,
        JobFlight<TJob, TResult> flight => flight.Phase switch
        {
            FlightPhase.Pending => KeyHolder.Pending,
            FlightPhase.Running => KeyHolder.Running,
            FlightPhase.Abandoned => KeyHolder.Abandoned,
            _ => KeyHolder.Closed,
        },
        _ => KeyHolder.Closed,
    };

    /// <summary>
    /// Starts a new flight led by <paramref name="waiter"/>, after <paramref name="owner"/> if it still holds the key.
    /// A pending flight (<paramref name="followsRun"/>) first tells that owner its outcome must not be kept.
    /// </summary>
    /// <returns><see langword="false"/> when someone else changed the key's owner first.</returns>
    private bool TryStart(JobWaiter<TJob, TResult> waiter, KeyOwner<string>? owner, WindowLookup<TResult> lookup, bool followsRun)
    {
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
            _shutdown.GaveUp,
            _policy.Kind == DuplicatePolicyKind.Debounce ? new DebounceTimer(_timeProvider, _policy.Delay, _policy.MaxWait) : null,
            followsRun);
        if (!_table.TryReplace(created, owner))
        {
            return false;
        }

        if (followsRun && owner is JobFlight<TJob, TResult> running)
        {
            running.MarkSuperseded();
        }

        _shutdown.Track(created);
        waiter.MarkAttached(created, JobRole.Leader);
        ThreadPool.UnsafeQueueUserWorkItem(created, preferLocal: false);
        return true;
    }

    private void RejectDuplicate(JobWaiter<TJob, TResult> waiter)
    {
        waiter.Complete(JobOutcome<TResult>.Rejected(waiter.Key, new JobRejectedException(
            $"Key '{waiter.Key}' of deduplicator '{_log.Name}' is already in flight and the duplicate policy is {_policy}; the job was not accepted.")));
    }

    /// <summary>Attaches a caller to a flight that counted it, giving the flight this caller's job when the action says so.</summary>
    /// <returns>
    /// <see langword="false"/> when the flight started its handler before the job could replace its own and the policy
    /// wants a run with this job (the caller left the flight again): decide again.
    /// </returns>
    private bool Join(JobFlight<TJob, TResult> flight, JobWaiter<TJob, TResult> waiter, DuplicateAction action)
    {
        if (flight.AttachedCount > _maxWaitersPerKey)
        {
            flight.Leave();
            waiter.Complete(JobOutcome<TResult>.Rejected(waiter.Key, new JobRejectedException(
                $"Key '{waiter.Key}' of deduplicator '{_log.Name}' already has {_maxWaitersPerKey} callers waiting (MaxWaitersPerKey).")));
            return true;
        }

        if (action != DuplicateAction.Join)
        {
            // The newest job is the one run, and a debounced start moves back, while the handler has not started.
            if (!flight.Waiters.TryReplaceJob(waiter.Job, flight) && !DuplicateDecision.JoinsOnceStarted(_policy.Kind))
            {
                flight.Leave();
                return false;
            }

            if (action == DuplicateAction.Extend)
            {
                _ = flight.Debounce?.TryExtend();
            }
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
        return true;
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
