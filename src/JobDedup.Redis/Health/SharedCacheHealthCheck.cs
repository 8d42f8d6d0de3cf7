using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.Redis.Health;

/// <summary>Healthy while the cache uses Redis; degraded (by default) while Redis is unavailable and factories are called directly.</summary>
internal sealed class SharedCacheHealthCheck(SharedCache cache) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stats = cache.GetStats();
        var data = new Dictionary<string, object>
        {
            ["server"] = cache.Server,
            ["namespace"] = cache.Namespace,
            ["hits"] = stats.Hits,
            ["misses"] = stats.Misses,
        };
        var result = cache.IsRedisAvailable
            ? HealthCheckResult.Healthy($"Cache '{cache.Name}' uses Redis at {cache.Server}.", data)
            : new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Cache '{cache.Name}' cannot reach Redis at {cache.Server}; factories are called directly.",
                data: data);
        return Task.FromResult(result);
    }
}
