using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>The rebuild lock between processes: waiters woken by pub/sub, bounded waits, fenced writes.</summary>
public sealed class LockTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task GetOrSetAsync_AnotherProcessRebuilds_TheWaiterIsWokenWhenTheValueLands()
    {
        var ns = RedisServer.NewNamespace();
        await using var rebuilder = redis.Cache(ns);
        await using var waiter = redis.Cache(ns);
        var gate = new Gate();
        var rebuilding = rebuilder.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "built elsewhere";
        }).AsTask();
        await gate.Reached.Within();

        var waiting = waiter.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("must not run"),
            new CacheEntryOptions { WaitForLock = TimeSpan.FromMinutes(1) }).AsTask();
        await Watchdog.Until(() => waiter.Waiters.Count == 1, "the second cache waits for the first one's value");
        gate.Open();

        Assert.Equal(new CacheResult<string>("built elsewhere", CacheValueSource.Peer), await waiting.Within());
        Assert.Equal(CacheValueSource.Computed, (await rebuilding.Within()).Source);
        Assert.Equal(1, waiter.GetStats().LockWaits);
        Assert.Equal(1, waiter.GetStats().StampedesPrevented);
        Assert.Equal(0, waiter.Waiters.Count);
    }

    [Fact]
    public async Task GetOrSetAsync_LockHeldPastWaitForLock_TheWaiterComputesItselfWithoutStoring()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);
        await redis.Database.StringSetAsync($"{ns}:l:k", "someone else", TimeSpan.FromMinutes(1));

        var result = await cache.GetOrSetAsync("k", () => "mine", new CacheEntryOptions { WaitForLock = TimeSpan.FromMilliseconds(200) }).Within();

        Assert.Equal(new CacheResult<string>("mine", CacheValueSource.ComputedAfterWait), result);
        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:v:k"));
        Assert.Equal("someone else", (string?)await redis.Database.StringGetAsync($"{ns}:l:k"));
    }

    [Fact]
    public async Task GetOrSetAsync_RebuilderWhoseLockExpiredWritesLate_IsRefusedAndTheNewerValueStays()
    {
        var ns = RedisServer.NewNamespace();
        await using var slow = redis.Cache(ns);
        await using var fast = redis.Cache(ns);
        var gate = new Gate();
        var late = slow.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "late and old";
        }, new CacheEntryOptions { LockTimeout = TimeSpan.FromMilliseconds(300) }).AsTask();
        await gate.Reached.Within();
        await Watchdog.Until(async () => !await redis.Database.KeyExistsAsync($"{ns}:l:k"), "the slow rebuilder's lock expires");
        Assert.Equal(CacheValueSource.Computed, (await fast.GetOrSetAsync("k", () => "newer")).Source);

        gate.Open();

        Assert.Equal(new CacheResult<string>("late and old", CacheValueSource.Computed), await late.Within());
        await using var reader = redis.Cache(ns);
        Assert.Equal(new CacheResult<string>("newer", CacheValueSource.Redis), await reader.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("must not run")));
    }

    [Fact]
    public async Task GetOrSetAsync_AfterARebuild_TheLockIsReleased()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);

        await cache.GetOrSetAsync("k", () => "v");

        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:l:k"));
        var ttl = await redis.Database.KeyTimeToLiveAsync($"{ns}:v:k");
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
    }
}
