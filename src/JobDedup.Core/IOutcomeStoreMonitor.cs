namespace JobDedup;

/// <summary>
/// Tells whether a deduplicator can use its outcome store, so that a transport can stop taking work while the store
/// is down and take it again by itself once the store answers. <see cref="JobDeduplicator{TJob, TResult}"/>
/// implements it.
/// </summary>
public interface IOutcomeStoreMonitor
{
    /// <summary>Gets the store's state now.</summary>
    OutcomeStoreState StoreState { get; }

    /// <summary>
    /// Raised once per change of <see cref="StoreState"/>, in order, with the new state. Handlers run on the thread
    /// that saw the change and must be short and never throw (an exception is ignored).
    /// </summary>
    event EventHandler<OutcomeStoreState>? StoreStateChanged;
}
