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
    private int _leaderIndex;
    private int _attempts;
    private bool _completed;
    private int _completing;
    private int _running;
    private JobOutcome<TResult> _final;

    public JobFlight(JobDeduplicator<TJob, TResult> owner, JobWaiter<TJob, TResult> leader, bool runToCompletionWhenAbandoned, Task<StoredOutcome<TResult>?>? pendingLookup)
        : base(leader.Key, attached: 1, cancellable: true, runToCompletionWhenAbandoned)
    {
        Owner = owner;
        _waiters = [leader];
        _pendingLookup = pendingLookup;
    }

    public JobDeduplicator<TJob, TResult> Owner { get; }

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Gets a value indicating whether the handler has been started (a slot was taken).</summary>
    public bool IsRunning => Volatile.Read(ref _running) != 0;

    public void MarkRunning() => Volatile.Write(ref _running, 1);

    /// <summary>Adds a caller the flight already counted (see <see cref="Flight{TKey}.TryJoin"/>).</summary>
    public void AddJoiner(JobWaiter<TJob, TResult> waiter)
    {
        bool added;
        lock (_sync)
        {
            added = !_completed;
            if (added)
            {
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
            if (!_waiters[_leaderIndex].IsWaiting)
            {
                for (var i = _leaderIndex + 1; i < _waiters.Count; i++)
                {
                    if (_waiters[i].IsWaiting)
                    {
                        _leaderIndex = i;
                        elected = true;
                        break;
                    }
                }
            }

            leader = _waiters[_leaderIndex];
            changed = _leaderIndex != 0;
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
        int leaderIndex;
        lock (_sync)
        {
            _final = outcome;
            _completed = true;
            leaderIndex = _leaderIndex;
        }

        // No caller is added once _completed is set, so the list is read outside the lock.
        for (var i = 0; i < _waiters.Count; i++)
        {
            var role = replayed ? JobRole.Replayed : i == leaderIndex ? JobRole.Leader : JobRole.Joined;
            if (_waiters[i].Complete(outcome.WithRole(role)))
            {
                waiters++;
            }
        }

        return true;
    }

    /// <summary>Runs the flight on the thread pool, so a handler that blocks never holds up the dispatcher.</summary>
    void IThreadPoolWorkItem.Execute() => _ = Owner.RunFlightAsync(this, _pendingLookup);
}
