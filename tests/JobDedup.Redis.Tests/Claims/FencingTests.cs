using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>Claims as Redis hashes, on the server's clock (the backend-neutral cases are in <see cref="ContractTests"/>).</summary>
public sealed class FencingTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TryClaimAsync_FreeKey_IsGrantedAndRecordedAsClaimed()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

        Assert.Equal(ClaimState.Claimed, claim.State);
        Assert.True(claim.FencingToken > 0);
        Assert.Equal("c", await scope.FieldAsync(store, "s", "k", "st"));
        Assert.Equal("owner-a", await scope.FieldAsync(store, "s", "k", "own"));
        Assert.Equal(claim.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture), await scope.FieldAsync(store, "s", "k", "tok"));
    }

    [Fact]
    public async Task TryClaimAsync_LiveClaim_ReportsBusyWithTheLeaseOnTheServerClock()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var (seconds, _) = ServerTime(await redis.Database.ExecuteAsync("TIME"));
        await store.TryClaimAsync("s", "k", "owner-a", null, TimeSpan.FromSeconds(30), default);

        var busy = await store.TryClaimAsync("s", "k", "owner-b", null, TimeSpan.FromSeconds(30), default);

        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(0, busy.FencingToken);
        var before = DateTimeOffset.FromUnixTimeSeconds(seconds);
        Assert.InRange(busy.LeaseExpiresAt!.Value, before + TimeSpan.FromSeconds(29), before + TimeSpan.FromSeconds(40));
        Assert.Equal("owner-a", await scope.FieldAsync(store, "s", "k", "own"));
    }

    [Fact]
    public async Task FencingTokens_AreMonotonicPerKey_EvenAfterTheRecordIsGone()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var first = await store.TryClaimAsync("s", "k", "a", null, Long, default);
        await store.RemoveAsync("s", "k", default);
        await store.ClearAsync("s", default);

        var second = await store.TryClaimAsync("s", "k", "b", null, Long, default);

        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("stale", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task LongKey_IsKeptUnderItsHash()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var key = new string('x', 5_000) + "é";

        await store.SaveAsync("s", key, new StoredOutcome<string>("v", 1, DateTimeOffset.UnixEpoch), TimeSpan.FromHours(1), default);

        var record = await store.RecordKeyAsync("s", key);
        Assert.True(record.Length < 200, record);
        Assert.True(await redis.Database.KeyExistsAsync(record));
    }

    private static (long Seconds, long Micros) ServerTime(StackExchange.Redis.RedisResult time)
    {
        var parts = (StackExchange.Redis.RedisResult[])time!;
        return ((long)parts[0], (long)parts[1]);
    }
}
