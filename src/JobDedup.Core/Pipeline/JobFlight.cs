using JobDedup.Flights;

namespace JobDedup.Pipeline;

/// <summary>
/// A flight of the job pipeline: the callers waiting on one key, oldest first, and which of them leads. The
/// dispatcher adds callers; the flight's run elects leaders and delivers the outcome. The caller list is guarded by
/// a lock that is never held while user code runs or a caller is completed.
/// </summary>
internal sealed class JobFlight<TJob, TResult> : Flight<string>, IThreadPoolWorkItem
{
    private readonly List<JobWaiter<TJob, TResult>> _waiters;
    private readonly Lock _sync = new();
    private readonly Task<StoredOutcome<TResult>?>? _pendingLookup;
    private JobWaiter<TJob, TResult> _leader;
    private bool _leaderChanged;
    private int _attempts;
    private bool _completed;
    private int _completing;
    private int _running;
    private JobOutcome<TResult> _final;

    public JobFlight(JobDeduplicator<TJob, TResult> owner, JobWaiter<TJob, TResult> leader, bool runToCompletionWhenAbandoned, Task<StoredOutcome<TResult>?>? pendingLookup)
        : base(leader.Key, attached: 1, cancellable: true, runToCompletionWhenAbandoned)
    {
        Owner = owner;
        _leader = leader;
        _waiters = [leader];
        _pendingLookup = pendingLookup;
    }

    public JobDeduplicator<TJob, TResult> Owner { get; }

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Gets a value indicating whether the handler has been started (a slot was taken).</summary>
    public bool IsRunning => Volatile.Read(ref _running) != 0;

    /// <summary>Gets or sets the end of a handler that ignored its token after a timeout; it keeps the flight's slot until then.</summary>
    public Task? LeftBehind { get; set; }

    /// <summary>Gets the number of callers the flight holds, including ones that left and were not yet dropped.</summary>
    public int HeldWaiters
    {
        get
        {
            lock (_sync)
            {
                return _waiters.Count;
            }
        }
    }

    public void MarkRunning() => Volatile.Write(ref _running, 1);

    /// <summary>Adds a caller the flight already counted (see <see cref="Flight{TKey}.TryJoin"/>).</summary>
    /// <param name="waiter">The caller.</param>
    /// <param name="maxWaiters">The key's waiter limit; callers that left are dropped before the list outgrows twice that.</param>
    public void AddJoiner(JobWaiter<TJob, TResult> waiter, int maxWaiters)
    {
        bool added;
        lock (_sync)
        {
            added = !_completed;
            if (added)
            {
                // Callers that left stay listed until here, so leaving costs nothing. Dropping them once the list
                // reaches the limit (or twice the callers still waiting) keeps memory bounded at O(1) per join.
                if (_waiters.Count >= Math.Max(maxWaiters, 2 * AttachedCount))
                {
                    _waiters.RemoveAll(static w => !w.IsWaiting);
                }

                _waiters.Add(waiter);
            }
        }

        if (added)
        {
            waiter.MarkAttached(this, JobRole.Joined);
        }
        else
        {
            // The flight completed between the join and now: its outcome is already known.
            waiter.Complete(_final.WithRole(JobRole.Joined));
        }
    }

    /// <summary>
    /// Starts an attempt: if the current leader's caller has left, the oldest caller still waiting leads instead and
    /// its job is the one run.
    /// </summary>
    public (TJob Job, JobContext Context, bool Elected) BeginAttempt()
    {
        JobWaiter<TJob, TResult> leader;
        int attempt;
        bool changed;
        var elected = false;
        lock (_sync)
        {
            attempt = ++_attempts;
            if (!_leader.IsWaiting)
            {
                foreach (var waiter in _waiters)
                {
                    if (waiter.IsWaiting)
                    {
                        _leader = waiter;
                        _leaderChanged = true;
                        elected = true;
                        break;
                    }
                }
            }

            leader = _leader;
            changed = _leaderChanged;
        }

        return (leader.Job, new JobContext(Owner.Name, Key, attempt, changed), elected);
    }

    /// <summary>
    /// Delivers the outcome to every caller once: the leader gets it as <see cref="JobRole.Leader"/>, the others as
    /// <see cref="JobRole.Joined"/> (or everyone as <see cref="JobRole.Replayed"/>). The key leaves the map first,
    /// so the next arrival starts afresh.
    /// </summary>
    /// <returns><see langword="false"/> when the flight had already completed.</returns>
    public bool TryComplete(in JobOutcome<TResult> outcome, bool replayed, out int waiters)
    {
        waiters = 0;
        if (Interlocked.Exchange(ref _completing, 1) != 0)
        {
            return false;
        }

        Owner.RemoveFlight(this);
        Close();
        JobWaiter<TJob, TResult> leader;
        lock (_sync)
        {
            _final = outcome;
            _completed = true;
            leader = _leader;
        }

        // No caller is added once _completed is set, so the list is read outside the lock.
        foreach (var waiter in _waiters)
        {
            var role = replayed ? JobRole.Replayed : ReferenceEquals(waiter, leader) ? JobRole.Leader : JobRole.Joined;
            if (waiter.Complete(outcome.WithRole(role)))
            {
                waiters++;
            }
        }

        return true;
    }

    /// <summary>Runs the flight on the thread pool, so a handler that blocks never holds up the dispatcher.</summary>
    void IThreadPoolWorkItem.Execute() => _ = Owner.RunFlightAsync(this, _pendingLookup);
}
