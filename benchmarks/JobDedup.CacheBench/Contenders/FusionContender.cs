using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Locking.Distributed.Redis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace JobDedup.CacheBench.Contenders;

/// <summary>FusionCache 2.9 with Redis as its distributed cache, its Redis distributed locker and backplane, and eager refresh at 90%.</summary>
internal sealed class FusionContender : ICacheContender
{
    private readonly ServiceProvider _services;
    private readonly IFusionCache _cache;

    public FusionContender(string redis, string ns)
    {
        var services = new ServiceCollection();
        services.AddFusionCache()
            .WithCacheKeyPrefix(ns + ":")
            .WithDefaultEntryOptions(o =>
            {
                o.EagerRefreshThreshold = 0.9f;
                o.DistributedLockTimeout = TimeSpan.FromSeconds(5);
            })
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redis }))
            .WithBackplane(new RedisBackplane(new RedisBackplaneOptions { Configuration = redis }))
            .WithRedisDistributedLocker(o => o.Configuration = redis);
        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<IFusionCache>();
    }

    public string Name => "FusionCache + Redis locker + backplane";

    public ValueTask<string> GetAsync(string key, Func<CancellationToken, ValueTask<string>> factory, TimeSpan timeToLive) =>
        _cache.GetOrSetAsync<string>(key, (_, token) => factory(token).AsTask(), options => options.SetDuration(timeToLive));

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
