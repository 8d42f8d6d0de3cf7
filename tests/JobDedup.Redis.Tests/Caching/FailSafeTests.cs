using JobDedup.Redis.Tests.Support;
using FakeClock = Microsoft.Extensions.Time.Testing.FakeTimeProvider;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>Fail-safe: a failing or slow factory is answered with the stale value, within the stale age.</summary>
public sealed class FailSafeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly CacheEntryOptions FailSafe = new()
    {
        TimeToLive = TimeSpan.FromMinutes(1),
        FailSafeMaxStaleAge = TimeSpan.FromMinutes(10),
        SoftTimeout = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public async Task GetOrSetAsync_FactoryThrowsWithAStaleValue_ServesTheStaleValueAndSaysSo()
    {
        var clock = new FakeClock();
        await using var cache = redis.Cache(RedisServer.NewNamespace(), time: clock);
        await cache.GetOrSetAsync("k", () => "old", FailSafe);
        clock.Advance(TimeSpan.FromMinutes(2));

        var result = await cache.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("database down"), FailSafe);

        Assert.Equal(new CacheResult<string>("old", CacheValueSource.StaleAfterFailure), result);
        Assert.True(result.IsStale);
        Assert.Equal(1, cache.GetStats().StaleServed);
        Assert.Equal("fresh", (await cache.GetOrSetAsync("k", () => "fresh", FailSafe)).Value);
    }

    [Fact]
    public async Task GetOrSetAsync_FactoryThrowsPastTheStaleAge_TheFailureReachesTheCaller()
    {
        var clock = new FakeClock();
        await using var cache = redis.Cache(RedisServer.NewNamespace(), time: clock);
        await cache.GetOrSetAsync("k", () => "old", FailSafe);
        clock.Advance(TimeSpan.FromMinutes(12));

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("database down"), FailSafe).AsTask());
    }

    [Fact]
    public async Task GetOrSetAsync_FailSafeOff_TheFailureReachesTheCaller()
    {
        var clock = new FakeClock();
        await using var cache = redis.Cache(RedisServer.NewNamespace(), time: clock);
        var noFailSafe = new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(1) };
        await cache.GetOrSetAsync("k", () => "old", noFailSafe);
        clock.Advance(TimeSpan.FromMinutes(2));

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("database down"), noFailSafe).AsTask());
    }

    [Fact]
    public async Task GetOrSetAsync_FactoryPassesItsSoftTimeout_ServesTheStaleValue_AndTheFactoryFinishesInTheBackground()
    {
        var clock = new FakeClock();
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns, time: clock);
        await cache.GetOrSetAsync("k", () => "old", FailSafe);
        clock.Advance(TimeSpan.FromMinutes(2));
        var gate = new Gate();

        var call = cache.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "slow but new";
        }, FailSafe).AsTask();
        await gate.Reached.Within();

        // The soft-timeout timer starts right after the factory reaches the gate; move the clock until it fires.
        await Watchdog.Until(() =>
        {
            if (!call.IsCompleted)
            {
                clock.Advance(FailSafe.SoftTimeout);
            }

            return call.IsCompleted;
        }, "the soft timeout passes");
        Assert.Equal(new CacheResult<string>("old", CacheValueSource.StaleAfterTimeout), await call);

        gate.Open();
        await Watchdog.Until(() => cache.BackgroundRebuilds == 1, "the factory finishes in the background");
        Assert.Equal(new CacheResult<string>("slow but new", CacheValueSource.Redis), await cache.GetOrSetAsync<string>("k", () => "unused", FailSafe));
        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:l:k"));
    }

    [Fact]
    public async Task GetOrSetAsync_SoftTimeoutWithoutAStaleValue_WaitsForTheFactory()
    {
        var clock = new FakeClock();
        await using var cache = redis.Cache(RedisServer.NewNamespace(), time: clock);
        var gate = new Gate();
        var call = cache.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "first value";
        }, FailSafe).AsTask();
        await gate.Reached.Within();

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(call.IsCompleted);
        gate.Open();

        Assert.Equal(new CacheResult<string>("first value", CacheValueSource.Computed), await call.Within());
    }
}
