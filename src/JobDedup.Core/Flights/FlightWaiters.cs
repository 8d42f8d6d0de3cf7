using System.Diagnostics;
using JobDedup.Dispatching;

namespace JobDedup.Flights;

/// <summary>
/// The callers of one job flight, oldest first, and which of them leads: the leader's job is the one each attempt
/// runs, and when the leader has left, the oldest caller still waiting is elected in its place. Under a duplicate
/// policy that keeps the latest payload, an arrival's job replaces the leader's until the handler starts; the
/// replacement then stays the job run, whoever leaves. Guarded by one lock, never held while user code runs or a
/// caller is completed. A flight with one caller allocates no list.
/// </summary>
internal sealed class FlightWaiters<TJob, TResult>
{
    private readonly Lock _waitersLock = new();
    private readonly JobWaiter<TJob, TResult> _first;
    private List<JobWaiter<TJob, TResult>>? _joiners;
    private JobWaiter<TJob, TResult> _leader;
    private bool _leaderChanged;
    private bool _replaced;
    private TJob? _latestJob;
    private bool _delivering;
    private JobOutcome<TResult> _final;

    public FlightWaiters(JobWaiter<TJob, TResult> leader)
    {
        _first = leader;
        _leader = leader;
    }

    /// <summary>Gets the number of callers listed, including ones that left and were not yet dropped.</summary>
    public int Count
    {
        get
        {
            lock (_waitersLock)
            {
                return 1 + (_joiners?.Count ?? 0);
            }
        }
    }

    /// <summary>
    /// Lists a caller the flight already counted. When the outcome is being delivered already, the caller gets it
    /// at once instead.
    /// </summary>
    /// <param name="waiter">The caller.</param>
    /// <param name="maxWaiters">The key's waiter limit; callers that left are dropped before the list outgrows it.</param>
    /// <param name="attached">The number of callers still attached, for the same bound.</param>
    /// <returns><see langword="false"/> when the outcome was already being delivered and was given to the caller.</returns>
    public bool TryAdd(JobWaiter<TJob, TResult> waiter, int maxWaiters, int attached)
    {
        lock (_waitersLock)
        {
            if (!_delivering)
            {
                var joiners = _joiners ??= new List<JobWaiter<TJob, TResult>>(4);

                // Callers that left stay listed until here, so leaving costs nothing; dropping them once the list
                // reaches the limit (or twice the callers still waiting) keeps memory bounded at O(1) per join.
                if (joiners.Count >= Math.Max(maxWaiters, 2 * attached))
                {
                    joiners.RemoveAll(static w => !w.IsWaiting);
                }

                joiners.Add(waiter);
                return true;
            }
        }

        waiter.Complete(_final.WithRole(JobRole.Joined));
        return false;
    }

    /// <summary>
    /// Makes <paramref name="job"/> the one the flight's handler runs, while the flight is still pending. Checked under
    /// the lock that <see cref="ElectLeader"/> takes after the flight moved to running, so a replacement either lands
    /// before the first attempt reads the job or not at all.
    /// </summary>
    /// <param name="job">The newest arrival's job.</param>
    /// <param name="flight">The flight these callers belong to.</param>
    /// <returns><see langword="false"/> when the handler already started: the job it runs stays.</returns>
    public bool TryReplaceJob(TJob job, Flight<string> flight)
    {
        lock (_waitersLock)
        {
            if (flight.Phase != FlightPhase.Pending)
            {
                return false;
            }

            _latestJob = job;
            _replaced = true;
            return true;
        }
    }

    /// <summary>
    /// Leader re-election, at the start of each attempt: if the leader has left, the oldest caller still waiting
    /// leads instead and its job is the one run, unless a newer arrival's job replaced it (that one stays).
    /// </summary>
    /// <returns>The job to run, whether the leader ever changed, and whether it changed just now.</returns>
    public (TJob Job, bool LeaderChanged, bool ElectedNow) ElectLeader()
    {
        lock (_waitersLock)
        {
            var electedNow = false;
            if (!_leader.IsWaiting && OldestWaiting() is { } next)
            {
                _leader = next;
                _leaderChanged = true;
                electedNow = true;
            }

            return (_replaced ? _latestJob! : _leader.Job, _leaderChanged, electedNow);
        }
    }

    /// <summary>
    /// The trace contexts of a run's span: the current leader's (its parent) and a link to every other caller still
    /// waiting. Call only while the engine's spans are listened to.
    /// </summary>
    /// <param name="links">The other callers' contexts; null when none is traced.</param>
    /// <returns>The leader's context; default when the leader is untraced.</returns>
    public ActivityContext TraceContexts(out List<ActivityLink>? links)
    {
        links = null;
        lock (_waitersLock)
        {
            AddLink(_first, ref links);
            if (_joiners is { } joiners)
            {
                foreach (var waiter in joiners)
                {
                    AddLink(waiter, ref links);
                }
            }

            return _leader.Trace?.Context ?? default;
        }
    }

    /// <summary>
    /// Delivers the outcome to every caller once: the leader gets it as <see cref="JobRole.Leader"/>, the others as
    /// <see cref="JobRole.Joined"/> (or everyone as <see cref="JobRole.Replayed"/>).
    /// </summary>
    /// <returns>How many callers received it (the others had left).</returns>
    public int Deliver(in JobOutcome<TResult> outcome, bool replayed)
    {
        JobWaiter<TJob, TResult> leader;
        lock (_waitersLock)
        {
            _final = outcome;
            _delivering = true;
            leader = _leader;
        }

        // No caller is listed once delivering is set, so the list is read outside the lock.
        var delivered = Deliver(_first, outcome, replayed, leader);
        if (_joiners is { } joiners)
        {
            foreach (var waiter in joiners)
            {
                delivered += Deliver(waiter, outcome, replayed, leader);
            }
        }

        return delivered;
    }

    private static int Deliver(JobWaiter<TJob, TResult> waiter, in JobOutcome<TResult> outcome, bool replayed, JobWaiter<TJob, TResult> leader)
    {
        // A conflict was neither run, joined nor replayed for anyone.
        var role = outcome.Status == JobStatus.Conflict ? JobRole.None
            : replayed ? JobRole.Replayed : ReferenceEquals(waiter, leader) ? JobRole.Leader : JobRole.Joined;
        return waiter.Complete(outcome.WithRole(role)) ? 1 : 0;
    }

    private void AddLink(JobWaiter<TJob, TResult> waiter, ref List<ActivityLink>? links)
    {
        if (!ReferenceEquals(waiter, _leader) && waiter.IsWaiting && waiter.Trace is { } trace)
        {
            (links ??= new List<ActivityLink>(4)).Add(new ActivityLink(trace.Context));
        }
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
