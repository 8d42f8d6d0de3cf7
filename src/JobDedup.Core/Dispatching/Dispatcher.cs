using System.Diagnostics.CodeAnalysis;
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
/// <remarks>
/// Decisions are made one at a time, each by whoever holds the dispatcher's turn: the loop that reads the queue, or,
/// when nothing is queued and the turn is free, the enqueueing caller itself (<see cref="TryDispatchNow"/>), which
/// saves its job the trip through the queue and a thread switch. A caller that finds the turn taken queues its job,
/// and the holder of the turn reads it. A handler never runs while the turn is held. A decision runs no user code but
/// telemetry listeners and, when a duplicate leaves a flight it was the last caller of, the abandoned handler's
/// cancellation callbacks (as the loop's decisions always did); a caller does not decide for itself when the dedupe
/// window is read from an outcome store of the application's own (its lookup is made while deciding).
/// </remarks>
[SuppressMessage(
    "Design",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "The turn's wait handle is never asked for, so the semaphore holds nothing to release.")]
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
    private readonly bool _callerRunsHandler;
    private readonly bool _callerMayDispatch;

    // Held while one decision (or one batch read from the queue) is made. Never waited for synchronously: a caller
    // that finds it taken queues its job instead.
    private readonly SemaphoreSlim _turn = new(1, 1);

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
        TimeProvider timeProvider,
        bool callerRunsHandler,
        bool callerMayDispatch)
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
        // Where a flight's job may become a later caller's before it runs, the starting caller does not run it.
        _callerRunsHandler = callerRunsHandler && policy.Kind is not (DuplicatePolicyKind.Replace or DuplicatePolicyKind.KeepLatest or DuplicatePolicyKind.Debounce);
        _callerMayDispatch = callerMayDispatch;
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
                    await _turn.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        while (_queue.TryRead(out var waiter))
                        {
                            _metrics.Queued(-1);
                            _ = Dispatch(waiter, forCaller: false);
                        }
                    }
                    finally
                    {
                        _turn.Release();
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

    /// <summary>
    /// Decides for <paramref name="waiter"/> at once, on the caller's thread, when nothing is queued before it and no
    /// other decision is being made.
    /// </summary>
    /// <param name="waiter">The caller's job, not queued.</param>
    /// <param name="ledHere">
    /// The flight the caller now leads and must run itself (with <see cref="JobDedupOptions{TJob}.CallerRunsHandler"/>),
    /// or <see langword="null"/> when there is nothing to run here.
    /// </param>
    /// <returns><see langword="false"/> when the job must be queued instead.</returns>
    public bool TryDispatchNow(JobWaiter<TJob, TResult> waiter, out JobFlight<TJob, TResult>? ledHere)
    {
        ledHere = null;
        if (!_callerMayDispatch || _queue.Count > 0 || !TryTakeTurn())
        {
            return false;
        }

        try
        {
            ledHere = Dispatch(waiter, forCaller: true);
        }
        finally
        {
            _turn.Release();
        }

        return true;
    }

    /// <summary>
    /// Takes the turn if it is free, or frees up within a few spins: another caller's decision takes about a
    /// microsecond, and queueing instead costs this caller's job two thread switches. Never blocks.
    /// </summary>
    private bool TryTakeTurn()
    {
        if (_turn.Wait(0))
        {
            return true;
        }

        var spinner = default(SpinWait);
        while (!spinner.NextSpinWillYield)
        {
            spinner.SpinOnce();
            if (_turn.CurrentCount > 0 && _turn.Wait(0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Waits until no decision is being made; with intake stopped, every later one sees shutdown.</summary>
    public async Task WaitForTurnAsync()
    {
        await _turn.WaitAsync().ConfigureAwait(false);
        _turn.Release();
    }

    /// <summary>Decides for one caller; nothing escapes (a failure is the caller's outcome, and logged).</summary>
    /// <param name="waiter">The caller.</param>
    /// <param name="forCaller">Whether the caller itself is deciding (it may then run the flight it starts).</param>
    /// <returns>The flight the caller starts and runs itself, or <see langword="null"/>.</returns>
    private JobFlight<TJob, TResult>? Dispatch(JobWaiter<TJob, TResult> waiter, bool forCaller)
    {
        try
        {
            return DispatchCore(waiter, forCaller);
        }
        catch (Exception ex)
        {
            // The caller first, then the log: a failing logger must not leave it waiting.
            waiter.Complete(JobOutcome<TResult>.Failed(waiter.Key, ex, JobRole.None, 0));
            _log.Write(static (logger, name, s) => Log.DispatchFailed(logger, name, s.Key, s.ex), (waiter.Key, ex));
            return null;
        }
    }

    private JobFlight<TJob, TResult>? DispatchCore(JobWaiter<TJob, TResult> waiter, bool forCaller)
    {
        if (!waiter.IsWaiting)
        {
            return null; // the caller left while queued
        }

        if (_shutdown.IsStopping)
        {
            // Nothing new starts once shutdown began.
            waiter.Complete(JobDeduplicatorOutcomes.ShuttingDown<TResult>(waiter.Key, JobRole.None, 0));
            return null;
        }

        while (true)
        {
            var owner = _table.Find(waiter.Key);
            // A different request under the same key is refused before any duplicate policy applies.
            if (owner is JobFlight<TJob, TResult> held && RefusedAsConflict(held, waiter))
            {
                return null;
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
                    return null;

                case DuplicateAction.Join or DuplicateAction.ReplaceJob or DuplicateAction.Extend:
                    var flight = (JobFlight<TJob, TResult>)owner!;
                    if (flight.TryJoin() && Join(flight, waiter, action))
                    {
                        return null;
                    }

                    continue; // the flight moved on meanwhile (started, abandoned or completed): decide again

                case DuplicateAction.StartPending:
                    if (TryStart(waiter, owner, WindowLookup<TResult>.None, followsRun: true) is { } pending)
                    {
                        return Launch(pending, forCaller);
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

                return null;
            }

            if (TryStart(waiter, owner, lookup, followsRun: false) is { } started)
            {
                return Launch(started, forCaller);
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
    /// <returns>The flight, not yet running (see <see cref="Launch"/>); <see langword="null"/> when someone else changed the key's owner first.</returns>
    private JobFlight<TJob, TResult>? TryStart(JobWaiter<TJob, TResult> waiter, KeyOwner<string>? owner, WindowLookup<TResult> lookup, bool followsRun)
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
            created.Debounce?.Dispose(); // never runs: its timer must not stay armed
            return null;
        }

        if (followsRun && owner is JobFlight<TJob, TResult> running)
        {
            running.MarkSuperseded();
        }

        _shutdown.Track(created);
        waiter.MarkAttached(created, JobRole.Leader);
        return created;
    }

    /// <summary>
    /// Hands a flight just started to its run: back to the caller deciding for itself, which runs it once the turn is
    /// given back (<see cref="JobDedupOptions{TJob}.CallerRunsHandler"/>), or to the thread pool.
    /// </summary>
    /// <returns><paramref name="flight"/> when the caller runs it; <see langword="null"/> when the thread pool does.</returns>
    private JobFlight<TJob, TResult>? Launch(JobFlight<TJob, TResult> flight, bool forCaller)
    {
        if (forCaller && _callerRunsHandler && CallerHasNoContext())
        {
            return flight;
        }

        ThreadPool.UnsafeQueueUserWorkItem(flight, preferLocal: false);
        return null;
    }

    /// <summary>
    /// Whether the caller runs without a synchronization context or task scheduler of its own: only then may it run a
    /// flight, whose awaits would otherwise post back to it (and deadlock a caller that blocks on its outcome).
    /// </summary>
    private static bool CallerHasNoContext() => SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default;

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
