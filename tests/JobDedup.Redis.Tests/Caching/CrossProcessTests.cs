using System.Diagnostics;
using System.Globalization;
using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>Real child processes (tests/JobDedup.Redis.CacheClient) on one Redis.</summary>
public sealed class CrossProcessTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task GetOrSetAsync_4ProcessesTimes125ConcurrentColdMisses_RunTheFactoryOnceInAll()
    {
        var ns = RedisServer.NewNamespace();
        var counter = ns + ":factory-runs";
        var processes = Enumerable.Range(0, 4)
            .Select(_ => ChildProcess.CacheClient("crowd", redis.Configuration, ns, "cold", "125", "200", counter))
            .ToArray();
        try
        {
            foreach (var process in processes)
            {
                await process.LineAsync("ready");
            }

            foreach (var process in processes)
            {
                await process.SendAsync("go");
            }

            var done = new List<string>();
            foreach (var process in processes)
            {
                done.Add(await process.LineAsync("done "));
            }

            Assert.Equal(1, (long)await redis.Database.StringGetAsync(counter));
            Assert.Single(done.Select(d => d[5..d.LastIndexOf(' ')]).Distinct());
            Assert.Equal(1, done.Sum(d => int.Parse(d[(d.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
            Assert.DoesNotContain('|', done[0]);
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task GetOrSetAsync_LockHolderKilledMidRebuild_NoCallerWaitsPastWaitForLockPlusOneRebuild_AndAnotherRebuildsAfterTheLockTimeout()
    {
        var ns = RedisServer.NewNamespace();
        // The lock outlives the kill, the start of this test's cache and the whole wait below, on a busy machine too.
        await using var holder = ChildProcess.CacheClient("hold", redis.Configuration, ns, "k", "6000");
        await holder.LineAsync("rebuilding");
        await holder.KillAsync();
        Assert.True(await redis.Database.KeyExistsAsync($"{ns}:l:k"), "the killed rebuilder's lock is still there");
        await using var cache = redis.Cache(ns);
        var options = new CacheEntryOptions { WaitForLock = TimeSpan.FromMilliseconds(500), LockTimeout = TimeSpan.FromSeconds(6) };
        var rebuild = TimeSpan.FromMilliseconds(50);

        var clock = Stopwatch.StartNew();
        var waited = await cache.GetOrSetAsync<string>("k", async token =>
        {
            await Task.Delay(rebuild, token);
            return "rebuilt here";
        }, options).Within();
        var took = clock.Elapsed;

        Assert.Equal(new CacheResult<string>("rebuilt here", CacheValueSource.ComputedAfterWait), waited);
        Assert.True(took < options.WaitForLock + rebuild + TimeSpan.FromMilliseconds(500), $"the caller waited {took}");
        await Watchdog.Until(async () => !await redis.Database.KeyExistsAsync($"{ns}:l:k"), "the dead rebuilder's lock times out");
        Assert.Equal(CacheValueSource.Computed, (await cache.GetOrSetAsync("k", () => "after the timeout", options)).Source);
        Assert.Equal(new CacheResult<string>("after the timeout", CacheValueSource.Redis), await cache.GetOrSetAsync<string>("k", () => "unused", options));
    }

    [Fact]
    public async Task InvalidateAsync_IsSeenByASecondProcess_ThatDropsItsInMemoryCopy()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);
        await cache.GetOrSetAsync("k", () => "first");
        await using var watcher = ChildProcess.CacheClient("watch", redis.Configuration, ns, "k");
        await watcher.SendAsync("read");
        Assert.Equal("value first Redis", await watcher.LineAsync("value "));
        await watcher.SendAsync("read");
        Assert.Equal("value first Memory", await watcher.LineAsync("value "));

        await cache.InvalidateAsync("k");
        await cache.GetOrSetAsync("k", () => "second");

        // The watcher's copy lives 10 minutes: only the invalidation reaching it can make it read Redis again.
        await Watchdog.Until(async () =>
        {
            await watcher.SendAsync("read");
            return (await watcher.LineAsync("value ")).StartsWith("value second", StringComparison.Ordinal);
        }, "the watcher drops its copy and reads the new value");
    }
}
