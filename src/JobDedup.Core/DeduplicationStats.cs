namespace JobDedup;

/// <summary>A snapshot of what a deduplicator or a <see cref="SharedCall{TKey, TResult}"/> has done since it started or was reset.</summary>
/// <param name="Hits">Callers that got another caller's outcome: joined a flight or had it replayed.</param>
/// <param name="Misses">Flights that ran the handler (one per leader).</param>
/// <param name="Errors">Flights that ended in failure after their final attempt.</param>
/// <param name="Retries">Handler attempts that were retried inside a flight.</param>
/// <param name="LeaderElections">Times a waiting caller took over a flight whose leader had left.</param>
/// <param name="Active">Keys in flight right now.</param>
/// <param name="Queued">Jobs waiting in the queue for the dispatcher right now.</param>
public readonly record struct DeduplicationStats(
    long Hits,
    long Misses,
    long Errors,
    long Retries,
    long LeaderElections,
    int Active,
    int Queued)
{
    /// <summary>
    /// Gets how many callers were refused as <see cref="JobStatus.Conflict"/>: their key was in flight or kept with a
    /// different payload fingerprint (see <see cref="JobDedupOptions{TJob}.Fingerprint"/>).
    /// </summary>
    /// <value>0 for a <see cref="SharedCall{TKey, TResult}"/>, which compares no payloads.</value>
    public long Conflicts { get; init; }

    /// <summary>Gets the share of callers that did not cause a handler run: hits / (hits + misses), or 0 with no traffic.</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
