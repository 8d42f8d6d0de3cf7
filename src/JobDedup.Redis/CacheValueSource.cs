namespace JobDedup;

/// <summary>Where the value a <see cref="SharedCache"/> returned came from.</summary>
public enum CacheValueSource
{
    /// <summary>The in-memory level in front of Redis held a fresh copy; nothing was asked of Redis.</summary>
    Memory,

    /// <summary>Redis held a fresh entry (an early refresh may have started in the background).</summary>
    Redis,

    /// <summary>Nothing fresh was cached: this process ran the factory under the rebuild lock and stored the value.</summary>
    Computed,

    /// <summary>Another process held the rebuild lock; its value arrived while this call waited.</summary>
    Peer,

    /// <summary>Another process held the rebuild lock past the wait for the lock: this process ran the factory itself and did not store the value.</summary>
    ComputedAfterWait,

    /// <summary>The factory failed: the last value (within the fail-safe stale age) was served instead.</summary>
    StaleAfterFailure,

    /// <summary>The factory passed its soft timeout: the last value was served and the factory finishes in the background.</summary>
    StaleAfterTimeout,

    /// <summary>Redis could not be reached: the factory was called directly (still coalesced within the process).</summary>
    Direct,
}
