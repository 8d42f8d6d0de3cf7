using System.Diagnostics;
using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>Each store instance's heartbeat key: claims record it, and a claim whose heartbeat expired is taken over before its lease.</summary>
public sealed class HeartbeatTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TryClaimAsync_RecordsTheInstancesHeartbeat_WhichLivesAShortTimeAndIsRefreshed()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store(o => o.OwnerHeartbeat = TimeSpan.FromSeconds(3));

        await store.TryClaimAsync("s", "k", "owner", null, Long, default);
        var heartbeat = await scope.FieldAsync(store, "s", "k", "hb");

        Assert.Equal(store.HeartbeatKey, heartbeat);
        Assert.StartsWith(scope.Prefix + ":i:", heartbeat);
        var ttl = await redis.Database.KeyTimeToLiveAsync(heartbeat);
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));

        // Refreshed every second by the instance: after three seconds it is still there.
        var clock = Stopwatch.StartNew();
        await Watchdog.Until(() => clock.Elapsed > TimeSpan.FromSeconds(4), "more than a time to live passes");
        Assert.True(await redis.Database.KeyExistsAsync(heartbeat));
        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "other", null, Long, default)).State);
    }

    [Fact]
    public async Task ClaimOfAnInstanceWhoseHeartbeatExpired_IsTakenOverWithinTheHeartbeatNotTheLease()
    {
        var scope = new StoreScope(redis);
        await using var survivor = scope.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        var dead = await survivor.TryClaimAsync("s", "k", "crashed instance", null, Long, default);

        // The claim as a process that died a moment ago leaves it: its heartbeat, no longer refreshed, expires in 1 s.
        var deadHeartbeat = scope.Prefix + ":i:crashed";
        await redis.Database.StringSetAsync(deadHeartbeat, "1", TimeSpan.FromSeconds(1));
        await redis.Database.HashSetAsync(await survivor.RecordKeyAsync("s", "k"), "hb", deadHeartbeat);
        Assert.Equal(ClaimState.Busy, (await survivor.TryClaimAsync("s", "k", "survivor", null, Long, default)).State);

        var clock = Stopwatch.StartNew();
        Assert.Null(await survivor.WaitForOutcomeAsync("s", "k", default).Within());
        var taken = await survivor.TryClaimAsync("s", "k", "survivor", null, Long, default);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"taken over after {clock.Elapsed.TotalSeconds:F2} s; the lease is {Long}");
        Assert.Equal(ClaimState.Claimed, taken.State);
        Assert.True(taken.TakesOver);
        Assert.Equal("crashed instance", taken.PreviousOwner);
        Assert.True(taken.FencingToken > dead.FencingToken);
        Assert.False(await survivor.CompleteAsync("s", "k", dead.FencingToken, new StoredOutcome<string>("late", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task HeartbeatOff_ClaimsRecordNone_AndHoldByTheirLease()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store(o => o.OwnerHeartbeat = TimeSpan.Zero);

        await store.TryClaimAsync("s", "k", "owner", null, Long, default);

        Assert.Equal(string.Empty, await scope.FieldAsync(store, "s", "k", "hb"));
        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "other", null, Long, default)).State);
    }

    [Fact]
    public async Task DisposingTheStore_DeletesItsHeartbeat()
    {
        var scope = new StoreScope(redis);
        var store = scope.Store();
        await store.TryClaimAsync("s", "k", "owner", null, Long, default);
        var heartbeat = store.HeartbeatKey;
        Assert.True(await redis.Database.KeyExistsAsync(heartbeat));

        await store.DisposeAsync();

        Assert.False(await redis.Database.KeyExistsAsync(heartbeat));
    }
}
