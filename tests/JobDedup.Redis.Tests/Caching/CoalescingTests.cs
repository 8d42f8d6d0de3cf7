using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>One process: concurrent callers share one Redis read and one rebuild.</summary>
public sealed class CoalescingTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task GetOrSetAsync_100ConcurrentColdMisses_RunTheFactoryOnce_AndAllGetTheSameValue()
    {
        await using var cache = redis.Cache(RedisServer.NewNamespace());
        var gate = new Gate();
        var runs = 0;
        var calls = Enumerable.Range(0, 100).Select(_ => cache.GetOrSetAsync<string>("product:42", async token =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(token);
            return "the product";
        }).AsTask()).ToArray();

        await gate.Reached.Within();
        gate.Open();
        var results = await Task.WhenAll(calls).Within();

        Assert.Equal(1, runs);
        Assert.All(results, r => Assert.Equal("the product", r.Value));
        Assert.All(results, r => Assert.Equal(CacheValueSource.Computed, r.Source));
        Assert.Equal(99, cache.GetStats().StampedesPrevented);
        Assert.Equal(1, cache.GetStats().FactoryRuns);
    }

    [Fact]
    public async Task GetOrSetAsync_WarmKey_IsServedFromRedisWithoutRunningTheFactory()
    {
        var ns = RedisServer.NewNamespace();
        await using var writer = redis.Cache(ns);
        await using var reader = redis.Cache(ns);
        await writer.GetOrSetAsync("k", () => 7);

        var result = await reader.GetOrSetAsync<int>("k", () => throw new InvalidOperationException("must not run"));

        Assert.Equal(new CacheResult<int>(7, CacheValueSource.Redis), result);
        Assert.Equal(1, reader.GetStats().Hits);
        Assert.True(await redis.Database.KeyExistsAsync($"{ns}:v:k"));
    }

    [Fact]
    public async Task GetOrSetAsync_StateOverload_PassesTheStateToTheFactory()
    {
        await using var cache = redis.Cache(RedisServer.NewNamespace());

        var result = await cache.GetOrSetAsync("user:1", (Name: "Ada", Age: 36), static (s, _) => new ValueTask<string>($"{s.Name} {s.Age}"));

        Assert.Equal("Ada 36", result.Value);
        Assert.Equal(CacheValueSource.Computed, result.Source);
    }

    [Fact]
    public async Task GetOrSetAsync_FactoryFailsWithoutStaleValue_EveryCallerGetsTheFailure_AndTheNextCallRebuilds()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);
        var gate = new Gate();
        var calls = Enumerable.Range(0, 10).Select(_ => cache.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            throw new InvalidOperationException("database down");
        }).AsTask()).ToArray();
        await gate.Reached.Within();
        gate.Open();

        foreach (var call in calls)
        {
            Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => call.Within())).Message);
        }

        Assert.False(await redis.Database.KeyExistsAsync($"{ns}:l:k"));
        Assert.Equal("second", (await cache.GetOrSetAsync("k", () => "second")).Value);
    }

    [Fact]
    public async Task GetOrSetAsync_CallerCanceled_DetachesOnlyThatCaller()
    {
        await using var cache = redis.Cache(RedisServer.NewNamespace());
        var gate = new Gate();
        using var impatient = new CancellationTokenSource();
        var first = cache.GetOrSetAsync<string>("k", async token =>
        {
            await gate.WaitAsync(token);
            return "v";
        }).AsTask();
        await gate.Reached.Within();
        var leaving = cache.GetOrSetAsync<string>("k", _ => new ValueTask<string>("other"), cancellationToken: impatient.Token).AsTask();

        await impatient.CancelAsync();
        gate.Open();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.Within());
        Assert.Equal("v", (await first.Within()).Value);
    }

    [Fact]
    public async Task GetOrSetAsync_MemoryLevel_ServesTheSecondCallFromMemory()
    {
        await using var cache = redis.Cache(RedisServer.NewNamespace(), o => o.MemoryLevelDuration = TimeSpan.FromMinutes(1));

        await cache.GetOrSetAsync("k", () => "v");
        var second = await cache.GetOrSetAsync<string>("k", () => throw new InvalidOperationException("must not run"));

        Assert.Equal(new CacheResult<string>("v", CacheValueSource.Memory), second);
    }
}
