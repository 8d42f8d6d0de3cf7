namespace JobDedup;

/// <summary>A value returned by <see cref="SharedCache"/>, and where it came from.</summary>
/// <typeparam name="T">The value type.</typeparam>
/// <param name="Value">The value.</param>
/// <param name="Source">Where it came from: a cache level, a rebuild, a fail-safe stale copy, or a direct call.</param>
public readonly record struct CacheResult<T>(T Value, CacheValueSource Source)
{
    /// <summary>Gets a value indicating whether the value is a stale copy served by fail-safe.</summary>
    public bool IsStale => Source is CacheValueSource.StaleAfterFailure or CacheValueSource.StaleAfterTimeout;
}
