using JobDedup.Flights;

namespace JobDedup.Pipeline;

/// <summary>
/// A flight of the job pipeline: the callers waiting on one key, oldest first, and which of them leads. The
/// dispatcher adds callers; the flight's run elects leaders and delivers the outcome. The caller list is guarded by
/// the flight's monitor, which is never held while user code runs or a caller is completed. A flight with one caller
/// (the common case for distinct keys) allocates no list.
/// </summary>
internal sealed class JobFlight<TJob, TResult> : Flight<string>, IThreadPoolWorkItem
{
    private readonly JobWaiter<TJob, TResult> _first;
    private readonly Task<StoredOutcome<TResult>?>? _pendingLookup;
    private readonly CancellationToken _waitToken;
    private readonly CancellationToken _shutdownToken;
    private List<JobWaiter<TJob, TResult>>? _joiners;
    private JobWaiter<TJob, TResult> _leader;
    private bool _leaderChanged;
    private int _attempts;
    private bool _completed;
    private int _completing;
    private int _running;
    private JobOutcome<TResult> _final;

    /// <param name="owner">The deduplicator.</param>
    /// <param name="leader">The caller that starts the flight.</param>
    /// <param name="canBeAbandoned">
    /// Whether the flight may lose every caller (its leader can leave, and abandoned handlers are canceled); only then
    /// does it need a token source of its own.
    /// </param>
    /// <param name="runToCompletionWhenAbandoned">Keep the handler running after the last caller leaves.</param>
    /// <param name="pendingLookup">A dedupe-window lookup still in progress.</param>
    /// <param name="stopping">Fires when shutdown begins: ends waits of a flight with no token source of its own.</param>
    /// <param name="shutdown">Fires when shutdown gives up on running handlers: the handler token of such a flight.</param>
    public JobFlight(
        JobDeduplicator<TJob, TResult> owner,
        JobWaiter<TJob, TResult> leader,
        bool canBeAbandoned,
        bool runToCompletionWhenAbandoned,
        Task<StoredOutcome<TResult>?>? pendingLookup,
        CancellationToken stopping,
        CancellationToken shutdown)
        : base(leader.Key, attached: 1, cancellable: canBeAbandoned, runToCompletionWhenAbandoned)
    {
        _shutdownToken = shutdown;
        Owner = owner;
        _first = leader;
        _leader = leader;
        _pendingLookup = pendingLookup;
        _waitToken = HasOwnCancellation ? HandlerToken : stopping;
    }

    public JobDeduplicator<TJob, TResult> Owner { get; }

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>
    /// Gets the token for waits before the handler starts (the dedupe window, a claim, a slot): it fires when the
    /// flight is abandoned or shutdown begins.
    /// </summary>
    public CancellationToken WaitToken => _waitToken;

    /// <summary>Gets a value indicating whether the handler has been started (a slot was taken).</summary>
    public bool IsRunning => Volatile.Read(ref _running) != 0;

    /// <summary>Gets or sets the end of a handler that ignored its token after a timeout; it keeps the flight's slot until then.</summary>
    public Task? LeftBehind { get; set; }

    /// <summary>Gets the number of callers the flight holds, including ones that left and were not yet dropped.</summary>
    public int HeldWaiters
    {
        get
        {
            lock (this)
            {
                return 1 + (_joiners?.Count ?? 0);
            }
        }
    }

    public void MarkRunning() => Volatile.Write(ref _running, 1);

    /// <inheritdoc/>
    protected override CancellationToken SharedToken => _shutdownToken;

    /// <summary>Adds a caller the flight already counted (see <see cref="Flight{TKey}.TryJoin"/>).</summary>
    /// <param name="waiter">The caller.</param>
    /// <param name="maxWaiters">The key's waiter limit; callers that left are dropped before the list outgrows twice that.</param>
    public void AddJoiner(JobWaiter<TJob, TResult> waiter, int maxWaiters)
    {
        bool added;
        lock (this)
        {
            added = !_completed;
            if (added)
            {
                var joiners = _joiners ??= new List<JobWaiter<TJob, TResult>>(4);

                // Callers that left stay listed until here, so leaving costs nothing. Dropping them once the list
                // reaches the limit (or twice the callers still waiting) keeps memory bounded at O(1) per join.
                if (joiners.Count >= Math.Max(maxWaiters, 2 * AttachedCount))
                {
                    joiners.RemoveAll(static w => !w.IsWaiting);
                }

                joiners.Add(waiter);
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
        lock (this)
        {
            attempt = ++_attempts;
            if (!_leader.IsWaiting && OldestWaiting() is { } next)
            {
                _leader = next;
                _leaderChanged = true;
                elected = true;
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
        lock (this)
        {
            _final = outcome;
            _completed = true;
            leader = _leader;
        }

        // No caller is added once _completed is set, so the list is read outside the lock.
        waiters += Deliver(_first, outcome, replayed, leader);
        if (_joiners is { } joiners)
        {
            foreach (var waiter in joiners)
            {
                waiters += Deliver(waiter, outcome, replayed, leader);
            }
        }

        return true;
    }

    /// <summary>Runs the flight on the thread pool, so a handler that blocks never holds up the dispatcher.</summary>
    void IThreadPoolWorkItem.Execute() => _ = Owner.RunFlightAsync(this, _pendingLookup);

    private static int Deliver(JobWaiter<TJob, TResult> waiter, in JobOutcome<TResult> outcome, bool replayed, JobWaiter<TJob, TResult> leader)
    {
        var role = replayed ? JobRole.Replayed : ReferenceEquals(waiter, leader) ? JobRole.Leader : JobRole.Joined;
        return waiter.Complete(outcome.WithRole(role)) ? 1 : 0;
    }

    private JobWaiter<TJob, TResult>? OldestWaiting()
    {
        if (_first.IsWaiting)
        {
            return _first;
        }

        if (_joiners is { } joiners)
        {
            foreach (var waiter in joiners)
            {
                if (waiter.IsWaiting)
                {
                    return waiter;
                }
            }
        }

        return null;
    }
}
