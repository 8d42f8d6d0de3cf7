using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>Claims, leases and fencing tokens against the real server: every stale write affects nothing (the PostgreSQL store's cases).</summary>
public sealed class FencingTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TryClaimAsync_FreeKey_IsGrantedAndRecordedAsClaimed()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

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
        await store.TryClaimAsync("s", "k", "owner-a", TimeSpan.FromSeconds(30), default);

        var busy = await store.TryClaimAsync("s", "k", "owner-b", TimeSpan.FromSeconds(30), default);

        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(0, busy.FencingToken);
        var before = DateTimeOffset.FromUnixTimeSeconds(seconds);
        Assert.InRange(busy.LeaseExpiresAt!.Value, before + TimeSpan.FromSeconds(29), before + TimeSpan.FromSeconds(40));
        Assert.Equal("owner-a", await scope.FieldAsync(store, "s", "k", "own"));
    }

    [Fact]
    public async Task TryClaimAsync_LapsedClaim_IsTakenOverWithALargerToken()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var first = await store.TryClaimAsync("s", "k", "crashed", TimeSpan.FromSeconds(30), default);
        await scope.LapseAsync(store, "s", "k");

        var second = await store.TryClaimAsync("s", "k", "successor", Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Equal("successor", await scope.FieldAsync(store, "s", "k", "own"));
    }

    [Fact]
    public async Task RenewAsync_RightToken_ExtendsTheLease()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", TimeSpan.FromSeconds(5), default);
        var leaseBefore = (await store.TryClaimAsync("s", "k", "probe", Long, default)).LeaseExpiresAt!.Value;

        var renewed = await store.RenewAsync("s", "k", claim.FencingToken, TimeSpan.FromMinutes(10), default);
        var leaseAfter = (await store.TryClaimAsync("s", "k", "probe", Long, default)).LeaseExpiresAt!.Value;

        Assert.True(renewed);
        Assert.True(leaseAfter - leaseBefore > TimeSpan.FromMinutes(9), $"lease moved from {leaseBefore:O} to {leaseAfter:O}");
    }

    [Fact]
    public async Task RenewAsync_AfterTakeover_StaleTokenIsRefusedAndTheNewLeaseStays()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", TimeSpan.FromSeconds(30), default);
        await scope.LapseAsync(store, "s", "k");
        var current = await store.TryClaimAsync("s", "k", "current", TimeSpan.FromSeconds(30), default);
        var leaseBefore = await scope.FieldAsync(store, "s", "k", "lease");

        var renewed = await store.RenewAsync("s", "k", stale.FencingToken, TimeSpan.FromHours(1), default);

        Assert.False(renewed);
        Assert.Equal(leaseBefore, await scope.FieldAsync(store, "s", "k", "lease"));
        Assert.Equal(current.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture), await scope.FieldAsync(store, "s", "k", "tok"));
    }

    [Fact]
    public async Task CompleteAsync_RightToken_KeepsTheOutcomeAndTheNextClaimReturnsIt()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);
        var completedAt = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        var completed = await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt 42", 3, completedAt), TimeSpan.FromHours(1), default);
        var next = await store.TryClaimAsync("s", "k", "owner-b", Long, default);

        Assert.True(completed);
        Assert.Equal(ClaimState.Completed, next.State);
        Assert.Equal(new StoredOutcome<string>("receipt 42", 3, completedAt), next.Outcome);
        Assert.Equal(new StoredOutcome<string>("receipt 42", 3, completedAt), await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task CompleteAsync_WrongToken_IsRefusedAndTheKeyStaysClaimed()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        var completed = await store.CompleteAsync("s", "k", claim.FencingToken + 1, new StoredOutcome<string>("forged", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        Assert.False(completed);
        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "owner-b", Long, default)).State);
        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("real", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task CompleteAsync_Twice_TheSecondIsRefusedAndTheFirstOutcomeKept()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("first", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
        Assert.False(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("second", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));

        Assert.Equal("first", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task ReleaseAsync_RightToken_FreesTheKeyForTheNextClaim()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);
        var next = await store.TryClaimAsync("s", "k", "owner-b", Long, default);

        Assert.Equal(ClaimState.Claimed, next.State);
        Assert.True(next.FencingToken > claim.FencingToken);
    }

    [Fact]
    public async Task ReleaseAsync_StaleToken_LeavesTheNewerClaimAlone()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", TimeSpan.FromSeconds(30), default);
        await scope.LapseAsync(store, "s", "k");
        var current = await store.TryClaimAsync("s", "k", "current", Long, default);

        await store.ReleaseAsync("s", "k", stale.FencingToken, default);

        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "probe", Long, default)).State);
        Assert.Equal(current.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture), await scope.FieldAsync(store, "s", "k", "tok"));
    }

    [Fact]
    public async Task ReleaseAsync_CompletedKey_KeepsTheOutcome()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("done", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Equal("done", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task TryClaimAsync_ExpiredOutcome_IsTakenOver()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var first = await store.TryClaimAsync("s", "k", "owner-a", Long, default);
        await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("old", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);
        await scope.ExpireAsync(store, "s", "k");

        var second = await store.TryClaimAsync("s", "k", "owner-b", Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Null(await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task TryClaimAsync_ScopesAreSeparate()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        var a = await store.TryClaimAsync("payments", "k", "owner", Long, default);
        var b = await store.TryClaimAsync("refunds", "k", "owner", Long, default);

        Assert.Equal(ClaimState.Claimed, a.State);
        Assert.Equal(ClaimState.Claimed, b.State);
    }

    [Fact]
    public async Task TryClaimAsync_ManyClaimersAtOnce_ExactlyOneIsGranted()
    {
        var scope = new StoreScope(redis);
        var stores = Enumerable.Range(0, 4).Select(_ => scope.Store()).ToArray();
        try
        {
            var claims = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
                stores[i % stores.Length].TryClaimAsync("s", "hot", $"owner-{i}", Long, default).AsTask())).Within();

            Assert.Single(claims, c => c.State == ClaimState.Claimed);
            Assert.Equal(39, claims.Count(c => c.State == ClaimState.Busy));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task FencingTokens_AreMonotonicPerKey_EvenAfterTheRecordIsGone()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var first = await store.TryClaimAsync("s", "k", "a", Long, default);
        await store.RemoveAsync("s", "k", default);
        await store.ClearAsync("s", default);

        var second = await store.TryClaimAsync("s", "k", "b", Long, default);

        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("stale", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
    }

    [Theory]
    [InlineData("ключ-🔑-鍵")]
    [InlineData("with:colons:and\nnew lines")]
    [InlineData(null)]
    public async Task AnyKey_LongOrUnicode_IsClaimedCompletedAndReplayed(string? key)
    {
        key ??= new string('x', 5_000) + "é";
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        var claim = await store.TryClaimAsync("scope ✓", key, "owner", Long, default);
        Assert.True(await store.CompleteAsync("scope ✓", key, claim.FencingToken, new StoredOutcome<string>("done", 1, DateTimeOffset.UnixEpoch), TimeSpan.FromHours(1), default));

        Assert.Equal("done", (await store.TryGetAsync("scope ✓", key, default))!.Value.Value);
        Assert.Null(await store.TryGetAsync("scope ✓", key + "y", default));
        Assert.True((await store.RecordKeyAsync("scope ✓", key)).Length < 400);
    }

    private static (long Seconds, long Micros) ServerTime(StackExchange.Redis.RedisResult time)
    {
        var parts = (StackExchange.Redis.RedisResult[])time!;
        return ((long)parts[0], (long)parts[1]);
    }
}
