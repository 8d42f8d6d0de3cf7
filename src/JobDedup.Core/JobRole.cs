namespace JobDedup;

/// <summary>What part a caller played in the flight that produced its outcome.</summary>
public enum JobRole
{
    /// <summary>The job never reached a flight (it was rejected, or canceled while queued).</summary>
    None,

    /// <summary>The caller's job was the one the handler ran.</summary>
    Leader,

    /// <summary>The caller joined a flight already running for its key and shares its outcome.</summary>
    Joined,

    /// <summary>The outcome was kept from an earlier run inside the dedupe window; no handler ran.</summary>
    Replayed,
}
