namespace JobDedup.Flights;

/// <summary>The counters behind <see cref="DeduplicationStats"/>; updated with interlocked adds, never under a lock.</summary>
internal sealed class FlightCounters
{
    private long _hits;
    private long _misses;
    private long _errors;
    private long _retries;
    private long _leaderElections;
    private long _conflicts;

    public void Hit() => Interlocked.Increment(ref _hits);

    public void Miss() => Interlocked.Increment(ref _misses);

    public void Error() => Interlocked.Increment(ref _errors);

    public void Retry() => Interlocked.Increment(ref _retries);

    public void LeaderElection() => Interlocked.Increment(ref _leaderElections);

    public void Conflict(int callers = 1) => Interlocked.Add(ref _conflicts, callers);

    public DeduplicationStats Snapshot(int active, int queued) => new(
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _errors),
        Interlocked.Read(ref _retries),
        Interlocked.Read(ref _leaderElections),
        active,
        queued)
    {
        Conflicts = Interlocked.Read(ref _conflicts),
    };

    public void Reset()
    {
        Interlocked.Exchange(ref _hits, 0);
        Interlocked.Exchange(ref _misses, 0);
        Interlocked.Exchange(ref _errors, 0);
        Interlocked.Exchange(ref _retries, 0);
        Interlocked.Exchange(ref _leaderElections, 0);
        Interlocked.Exchange(ref _conflicts, 0);
    }
}
