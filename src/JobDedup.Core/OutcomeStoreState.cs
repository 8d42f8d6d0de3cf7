namespace JobDedup;

/// <summary>Whether a deduplicator can use its outcome store, as its circuit breaker sees it.</summary>
public enum OutcomeStoreState
{
    /// <summary>The store answers: calls go through.</summary>
    Available,

    /// <summary>
    /// The store failed repeatedly: calls to it are paused for <see cref="JobDedupOptions{TJob}.StoreBreakDuration"/>,
    /// and jobs that need it end as <see cref="JobStatus.Unavailable"/> without running.
    /// </summary>
    Unavailable,

    /// <summary>The pause is over and one trial call tests the store; it becomes available again when that call succeeds.</summary>
    Recovering,
}
