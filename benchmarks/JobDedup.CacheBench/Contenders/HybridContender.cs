using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.CacheBench.Contenders;

/// <summary>Microsoft's HybridCache 10.11: memory in front of Redis (Microsoft.Extensions.Caching.StackExchangeRedis).</summary>
internal sealed class HybridContender : ICacheContender
{
    private readonly ServiceProvider _services;
    private readonly HybridCache _cache;

    public HybridContender(string redis, string ns)
    {
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(o =>
        {
            o.Configuration = redis;
            o.InstanceName = ns + ":";
        });
        services.AddHybridCache();
        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<HybridCache>();
    }

    public string Name => "HybridCache + Redis";

    public ValueTask<string> GetAsync(string key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan timeToLive) =>
        _cache.GetOrCreateAsync(
            key,
            factory,
            static (f, token) => f(token),
            new HybridCacheEntryOptions { Expiration = timeToLive, LocalCacheExpiration = timeToLive });

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
