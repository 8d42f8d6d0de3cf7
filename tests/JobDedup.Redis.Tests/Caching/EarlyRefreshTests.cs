using JobDedup.Redis.Caching;
using JobDedup.Redis.Tests.Support;
using FakeClock = Microsoft.Extensions.Time.Testing.FakeTimeProvider;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>XFetch: the pure decision, and steady load on a hot key under a fake clock.</summary>
public sealed class EarlyRefreshTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Expiry = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1000, 100, 1.0, 0.5, false)] // gap 69 ms, 1 s left
    [InlineData(50, 100, 1.0, 0.5, true)] // gap 69 ms, 50 ms left
    [InlineData(50, 100, 0.0, 0.999, false)] // beta 0: never
    [InlineData(500, 100, 1.0, 0.999, true)] // gap 691 ms
    [InlineData(500, 100, 5.0, 0.7, true)] // gap 602 ms
    [InlineData(0, 100, 1.0, 0.999, false)] // expired: a miss, not an early refresh
    [InlineData(50, 0, 1.0, 0.999, false)] // no delta known
    public void ShouldRefresh_FollowsXFetch(int leftMs, int deltaMs, double beta, double uniform, bool expected)
    {
        var now = Expiry - TimeSpan.FromMilliseconds(leftMs);

        Assert.Equal(expected, EarlyRefresh.ShouldRefresh(now, Expiry, TimeSpan.FromMilliseconds(deltaMs), beta, uniform));
    }

    [Fact]
    public void ShouldRefresh_DrawOfZero_NeverRefreshesAFarExpiry()
    {
        Assert.False(EarlyRefresh.ShouldRefresh(Expiry - TimeSpan.FromMilliseconds(1), Expiry, TimeSpan.FromMilliseconds(100), 1.0, 0.0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SteadyLoadOnAHotKey_Across20ExpiryCycles_IsRefreshedBeforeEachExpiry_AndNoCallerWaitsForARecompute(bool memoryLevel)
    {
        var clock = new FakeClock(Expiry);
        await using var cache = redis.Cache(RedisServer.NewNamespace(), o => o.MemoryLevelDuration = memoryLevel ? TimeSpan.FromMinutes(1) : TimeSpan.Zero, clock);
        var random = new Random(42);
        cache.RandomSource = random.NextDouble;
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromSeconds(2), Beta = 1.0, FailSafeMaxStaleAge = TimeSpan.FromMinutes(5) };
        var version = 0;
        var inline = 0;
        var reads = 0;

        // The factory takes 100 ms of the fake clock; a read every 10 ms is the steady load.
        Func<CancellationToken, ValueTask<int>> factory = _ =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            return new ValueTask<int>(Interlocked.Increment(ref version));
        };
        Assert.Equal(CacheValueSource.Computed, (await cache.GetOrSetAsync("hot", factory, options)).Source);
        var firstExpiry = clock.GetUtcNow() + options.TimeToLive;

        while (cache.GetStats().EarlyRefreshes < 20 && reads < 10_000)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            var before = cache.GetStats().EarlyRefreshes;
            var result = await cache.GetOrSetAsync("hot", factory, options);
            reads++;
            if (result.Source != (memoryLevel ? CacheValueSource.Memory : CacheValueSource.Redis))
            {
                inline++;
            }

            if (cache.GetStats().EarlyRefreshes > before)
            {
                var target = before + 1;
                await Watchdog.Until(() => cache.BackgroundRebuilds == target, "the early refresh ends");
            }
        }

        var stats = cache.GetStats();
        Assert.Equal(20, stats.EarlyRefreshes);
        Assert.Equal(21, version);
        Assert.Equal(0, inline);
        Assert.Equal(1, stats.Misses);
        Assert.True(clock.GetUtcNow() > firstExpiry + TimeSpan.FromSeconds(30), $"20 cycles cover {clock.GetUtcNow() - firstExpiry}");
    }
}
