using JobDedup.Redis.Health;
using JobDedup.Redis.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>Redis stopped and started: factories are called directly, no caller hangs, one log line per change.</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task RedisStoppedAndStarted_FactoriesRunDirectlyMeanwhile_OneLogLinePerChange_AndTheCacheComesBack()
    {
        await using var server = await OwnRedis.StartAsync();
        var logs = new LogSink();
        await using var cache = new SharedCache(
            new SharedCacheOptions
            {
                Configuration = server.Configuration,
                Namespace = RedisServer.NewNamespace(),
                OperationTimeout = TimeSpan.FromMilliseconds(500),
                RetryUnavailableAfter = TimeSpan.FromMilliseconds(100),
            },
            logs);
        var check = new SharedCacheHealthCheck(cache);
        Assert.Equal(CacheValueSource.Computed, (await cache.GetOrSetAsync("k", () => "cached")).Source);
        Assert.Equal(CacheValueSource.Redis, (await cache.GetOrSetAsync("k", () => "unused")).Source);

        await server.StopAsync();
        var during = new List<CacheResult<string>>();
        for (var i = 0; i < 5; i++)
        {
            during.Add(await cache.GetOrSetAsync("k", () => "direct").AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        }

        Assert.All(during, r => Assert.Equal(new CacheResult<string>("direct", CacheValueSource.Direct), r));
        Assert.False(cache.IsRedisAvailable);
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(check)).Status);
        Assert.Equal(1, logs.Count(4001));

        await server.StartAgainAsync();
        await Watchdog.Until(async () => (await cache.GetOrSetAsync("k", () => "after").AsTask().WaitAsync(TimeSpan.FromSeconds(5))).Source != CacheValueSource.Direct, "the cache uses Redis again");

        Assert.True(cache.IsRedisAvailable);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(check)).Status);
        Assert.Equal(1, logs.Count(4001));
        Assert.Equal(1, logs.Count(4002));
        Assert.Equal(CacheValueSource.Redis, (await cache.GetOrSetAsync("k", () => "unused")).Source);
    }

    [Fact]
    public async Task NoRedisAtAll_TheFirstCallRunsTheFactoryDirectly_WithoutHanging()
    {
        await using var server = await OwnRedis.StartAsync();
        await server.StopAsync();
        await using var cache = new SharedCache(new SharedCacheOptions { Configuration = server.Configuration, Namespace = "nothing-there" });

        var result = await cache.GetOrSetAsync("k", () => 5).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new CacheResult<int>(5, CacheValueSource.Direct), result);
    }

    private static Task<HealthCheckResult> CheckAsync(SharedCacheHealthCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("cache", check, HealthStatus.Degraded, null),
        });
}
