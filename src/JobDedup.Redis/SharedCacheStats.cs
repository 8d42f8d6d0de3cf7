namespace JobDedup;

/// <summary>The counters of one <see cref="SharedCache"/> since it was built (the same counts go to the <c>JobDedup</c> meter).</summary>
/// <param name="Hits">Calls served from the cache (memory or Redis), joined calls included.</param>
/// <param name="Misses">Redis reads that found no fresh value.</param>
/// <param name="EarlyRefreshes">Background refreshes started by XFetch before expiry.</param>
/// <param name="LockWaits">Waits for another process's rebuild.</param>
/// <param name="StampedesPrevented">Calls for a missing value that did not run the factory: another caller's rebuild served them.</param>
/// <param name="StaleServed">Stale values served by fail-safe.</param>
/// <param name="FactoryRuns">Factory runs, early refreshes included.</param>
public readonly record struct SharedCacheStats(
    long Hits,
    long Misses,
    long EarlyRefreshes,
    long LockWaits,
    long StampedesPrevented,
    long StaleServed,
    long FactoryRuns);
