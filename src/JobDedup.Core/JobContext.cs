namespace JobDedup;

/// <summary>What a handler knows about the attempt it is running.</summary>
public sealed class JobContext
{
    internal JobContext(string deduplicatorName, string key, int attempt, bool leaderChanged, long? fencingToken = null, bool takesOver = false)
    {
        DeduplicatorName = deduplicatorName;
        Key = key;
        Attempt = attempt;
        LeaderChanged = leaderChanged;
        FencingToken = fencingToken;
        TakesOver = takesOver;
    }

    /// <summary>Gets the name of the deduplicator running the job.</summary>
    public string DeduplicatorName { get; }

    /// <summary>Gets the dedupe key of the flight.</summary>
    public string Key { get; }

    /// <summary>Gets the attempt number, starting at 1.</summary>
    public int Attempt { get; }

    /// <summary>
    /// Gets a value indicating whether the caller whose job is being run is not the one that started the flight:
    /// the earlier leader left and the oldest caller still waiting took its place.
    /// </summary>
    public bool LeaderChanged { get; }

    /// <summary>
    /// Gets the fencing token of this run's claim on the key in a claiming (durable) outcome store: larger than the
    /// token of every earlier claim on the key, on any instance. Pass it to the downstream service and let it refuse a
    /// write that carries a smaller token than one it has already seen for the key: a run that lost its claim (its
    /// process stalled, another instance took the key over) can then no longer overwrite the newer run's effects.
    /// Every attempt of one flight carries the same token.
    /// </summary>
    /// <value>
    /// <see langword="null"/> when the deduplicator keeps no claims (no dedupe window, or a store that does not claim,
    /// such as the in-memory one): only this process runs the key, and there is nothing to fence.
    /// </value>
    public long? FencingToken { get; }

    /// <summary>
    /// Gets a value indicating whether this run took the key over from an owner that died: an earlier claim on the key
    /// was neither completed nor released (its process crashed, or stalled past its lease). That run may have done part
    /// or all of its work, so a handler should make its effects conditional (pass the key as an idempotency key,
    /// check what the downstream service already has) rather than assume a first run.
    /// </summary>
    /// <value>
    /// <see langword="false"/> for a first run, a run after a failed or released one, or without a claiming store.
    /// The store knows of a dead owner only while it still has the earlier claim's record.
    /// </value>
    public bool TakesOver { get; }
}
