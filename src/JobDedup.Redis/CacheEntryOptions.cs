namespace JobDedup;

/// <summary>
/// How one key is cached and rebuilt by <see cref="SharedCache"/>: passed per call, or taken from
/// <see cref="SharedCacheOptions.DefaultEntryOptions"/>. Instances may be shared between calls; do not change one in use.
/// </summary>
public sealed class CacheEntryOptions
{
    /// <summary>Gets or sets how long a value stays fresh after it is stored.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the XFetch factor of probabilistic early refresh: a read refreshes in the background when
    /// <c>now - delta * Beta * ln(random) &gt;= expiry</c>, <c>delta</c> being how long the last rebuild took. Larger
    /// values refresh earlier; 0 turns early refresh off.
    /// </summary>
    /// <value>The default is 1.0.</value>
    public double Beta { get; set; } = 1.0;

    /// <summary>
    /// Gets or sets how long the Redis rebuild lock holds. A rebuilder that outlives it can no longer store its value
    /// (the write is fenced by the lock's token), and another process may rebuild.
    /// </summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a caller waits for another process's rebuild (woken by Redis pub/sub when the value
    /// lands) before it runs the factory itself.
    /// </summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan WaitForLock { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long past its expiry a value is kept to be served when the factory fails or passes
    /// <see cref="SoftTimeout"/> (fail-safe); <see cref="TimeSpan.Zero"/> turns fail-safe off.
    /// </summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: no stale value is served.</value>
    public TimeSpan FailSafeMaxStaleAge { get; set; }

    /// <summary>
    /// Gets or sets how long a rebuild may take before the stale value is served instead while the factory finishes
    /// in the background. Applies only when a stale value is at hand (see <see cref="FailSafeMaxStaleAge"/>);
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    /// <value>The default is <see cref="Timeout.InfiniteTimeSpan"/>.</value>
    public TimeSpan SoftTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Lists what is wrong with these settings, each message starting with its option's name.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (TimeToLive < TimeSpan.FromMilliseconds(1) || TimeToLive > TimeSpan.FromDays(365))
        {
            errors.Add($"{nameof(TimeToLive)} must be between 1 ms and 365 days, not {TimeToLive}.");
        }

        if (double.IsNaN(Beta) || Beta < 0 || Beta > 100)
        {
            errors.Add($"{nameof(Beta)} must be between 0 (off) and 100, not {Beta}.");
        }

        if (LockTimeout < TimeSpan.FromMilliseconds(10) || LockTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(LockTimeout)} must be between 10 ms and 1 hour, not {LockTimeout}.");
        }

        if (WaitForLock < TimeSpan.Zero || WaitForLock > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(WaitForLock)} must be between 0 and 1 hour, not {WaitForLock}.");
        }

        if (FailSafeMaxStaleAge < TimeSpan.Zero || FailSafeMaxStaleAge > TimeSpan.FromDays(365))
        {
            errors.Add($"{nameof(FailSafeMaxStaleAge)} must be between 0 (off) and 365 days, not {FailSafeMaxStaleAge}.");
        }

        if (SoftTimeout != Timeout.InfiniteTimeSpan && (SoftTimeout < TimeSpan.Zero || SoftTimeout > TimeSpan.FromHours(1)))
        {
            errors.Add($"{nameof(SoftTimeout)} must be infinite (off) or between 0 and 1 hour, not {SoftTimeout}.");
        }

        return errors;
    }

    /// <summary>Throws when the settings are invalid, naming each wrong option.</summary>
    internal void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid cache entry options: " + string.Join(" ", errors), "options");
        }
    }
}
