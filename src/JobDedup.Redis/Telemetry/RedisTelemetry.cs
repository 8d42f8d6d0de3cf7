namespace JobDedup.Redis;

/// <summary>
/// Names under which the Redis cache publishes metrics: its counters (<c>jobdedup.cache.*</c>) belong to the
/// library's one meter, named <see cref="MeterName"/> (the engine's, <see cref="JobDedupTelemetry.Name"/>).
/// </summary>
public static class RedisTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the cache's counters belong to.</summary>
    public const string MeterName = JobDedupTelemetry.Name;

    /// <summary>The tag naming the cache on every instrument; never a key.</summary>
    public const string CacheTag = "jobdedup.cache";
}
