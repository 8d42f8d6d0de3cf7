using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>InvalidateAsync removes the entry everywhere, and fences off a rebuild under way.</summary>
public sealed class InvalidationTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task InvalidateAsync_RemovesTheEntry_SoTheNextCallRebuilds()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns, o => o.MemoryLevelDuration = TimeSpan.FromMinutes(1));
        await cache.GetOrSetAsync("k", () => "first");

        await cache.InvalidateAsync("k");

        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:v:k"));
        Assert.Equal(new CacheResult<string>("second", CacheValueSource.Computed), await cache.GetOrSetAsync("k", () => "second"));
    }

    [Fact]
    public async Task InvalidateAsync_DuringARebuild_TheRebuildsOutdatedValueIsNotStored()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);
        var gate = new Gate();
        var rebuilding = cache.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "read before the change";
        }).AsTask();
        await gate.Reached.Within();

        await cache.InvalidateAsync("k");
        gate.Open();
        await rebuilding.Within();

        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:v:k"));
    }

    [Fact]
    public async Task InvalidateAsync_DropsTheInMemoryCopyOfAnotherCacheInstance()
    {
        var ns = RedisServer.NewNamespace();
        await using var reader = redis.Cache(ns, o => o.MemoryLevelDuration = TimeSpan.FromMinutes(10));
        await using var writer = redis.Cache(ns);
        await reader.GetOrSetAsync("k", () => "first");
        Assert.Equal(CacheValueSource.Memory, (await reader.GetOrSetAsync("k", () => "unused")).Source);

        await writer.InvalidateAsync("k");

        await Watchdog.Until(async () => (await reader.GetOrSetAsync("k", () => "second")).Value == "second", "the reader drops its copy");
    }
}
