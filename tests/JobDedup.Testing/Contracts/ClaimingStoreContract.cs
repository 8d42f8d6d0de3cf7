namespace JobDedup.Testing.Contracts;

/// <summary>
/// What every claiming outcome store must do, whatever its backend: claims, leases, fencing tokens and the plain
/// dedupe window. A store's test project derives from it and supplies the harness; checks that look inside the backend
/// (rows, hashes, the server's clock) stay in that project.
/// </summary>
public abstract class ClaimingStoreContract
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected abstract IClaimingStoreHarness NewHarness();

    [Fact]
    public async Task TryClaimAsync_LiveClaim_ReportsBusyUntilTheLeaseEnds()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claimed = await store.TryClaimAsync("s", "k", "owner-a", null, TimeSpan.FromSeconds(30), default);

        var busy = await store.TryClaimAsync("s", "k", "owner-b", null, TimeSpan.FromSeconds(30), default);

        Assert.Equal(ClaimState.Claimed, claimed.State);
        Assert.True(claimed.FencingToken > 0);
        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(0, busy.FencingToken);
        Assert.NotNull(busy.LeaseExpiresAt);
    }

    [Fact]
    public async Task TryClaimAsync_LapsedClaim_IsTakenOverWithALargerToken()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var first = await store.TryClaimAsync("s", "k", "crashed", null, TimeSpan.FromSeconds(30), default);
        await harness.LapseAsync("s", "k");

        var second = await store.TryClaimAsync("s", "k", "successor", null, Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.True(second.TakesOver);
        Assert.Equal("crashed", second.PreviousOwner);
        Assert.False(first.TakesOver);
        Assert.False(await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("late", 1, Noon), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task TryClaimAsync_OwnerOnAnotherStoreAlive_StaysBusyWhileItsLeaseHolds()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var other = harness.Store();
        var claimed = await holder.TryClaimAsync("s", "k", "holder", null, Long, default);

        var busy = await other.TryClaimAsync("s", "k", "other", null, Long, default);

        Assert.Equal(ClaimState.Claimed, claimed.State);
        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.True(await holder.RenewAsync("s", "k", claimed.FencingToken, Long, default));
    }

    [Fact]
    public async Task TryClaimAsync_OwnerDied_IsTakenOverAtOnceWithoutWaitingForTheLease_AndTheDeadOwnersWritesAreRefused()
    {
        await using var harness = NewHarness();
        var dying = harness.Store();
        var survivor = harness.Store();
        var dead = await dying.TryClaimAsync("s", "k", "dying", null, Long, default);
        await harness.KillOwnerAsync(dying);

        var taken = await survivor.TryClaimAsync("s", "k", "survivor", null, Long, default);

        Assert.Equal(ClaimState.Claimed, taken.State);
        Assert.True(taken.TakesOver);
        Assert.Equal("dying", taken.PreviousOwner);
        Assert.True(taken.FencingToken > dead.FencingToken);
        Assert.False(await survivor.RenewAsync("s", "k", dead.FencingToken, Long, default));
        Assert.False(await survivor.CompleteAsync("s", "k", dead.FencingToken, new StoredOutcome<string>("late", 1, Noon), TimeSpan.FromHours(1), default));
        Assert.True(await survivor.CompleteAsync("s", "k", taken.FencingToken, new StoredOutcome<string>("survivor's", 1, Noon), TimeSpan.FromHours(1), default));
        Assert.Equal("survivor's", (await survivor.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_OwnerDies_ReturnsNullSoThatTheKeyIsClaimedAgain()
    {
        await using var harness = NewHarness();
        var dying = harness.Store();
        var survivor = harness.Store(pollInterval: TimeSpan.FromMilliseconds(100));
        await dying.TryClaimAsync("s", "k", "dying", null, Long, default);
        var waiting = survivor.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => harness.Waiters(survivor) == 1, "the survivor waits on the dying owner's claim");
        Assert.False(waiting.IsCompleted);

        await harness.KillOwnerAsync(dying);

        Assert.Null(await waiting.Within());
        Assert.True((await survivor.TryClaimAsync("s", "k", "survivor", null, Long, default)).TakesOver);
    }

    [Fact]
    public async Task TryClaimAsync_TokensOfOneKey_GrowAcrossStores()
    {
        await using var harness = NewHarness();
        var stores = new[] { harness.Store(), harness.Store() };
        var tokens = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var claim = await stores[i % 2].TryClaimAsync("s", "k", $"owner-{i}", null, Long, default);
            Assert.Equal(ClaimState.Claimed, claim.State);
            tokens.Add(claim.FencingToken);
            await stores[i % 2].ReleaseAsync("s", "k", claim.FencingToken, default);
        }

        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task RenewAsync_RightToken_ExtendsTheLease()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, TimeSpan.FromSeconds(5), default);
        var leaseBefore = (await store.TryClaimAsync("s", "k", "probe", null, Long, default)).LeaseExpiresAt!.Value;

        var renewed = await store.RenewAsync("s", "k", claim.FencingToken, TimeSpan.FromMinutes(10), default);
        var leaseAfter = (await store.TryClaimAsync("s", "k", "probe", null, Long, default)).LeaseExpiresAt!.Value;

        Assert.True(renewed);
        Assert.True(leaseAfter - leaseBefore > TimeSpan.FromMinutes(9), $"lease moved from {leaseBefore:O} to {leaseAfter:O}");
    }

    [Fact]
    public async Task RenewAsync_AfterTakeover_StaleTokenIsRefusedAndTheNewClaimHolds()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", null, TimeSpan.FromSeconds(30), default);
        await harness.LapseAsync("s", "k");
        var current = await store.TryClaimAsync("s", "k", "current", null, TimeSpan.FromSeconds(30), default);
        var leaseBefore = (await store.TryClaimAsync("s", "k", "probe", null, Long, default)).LeaseExpiresAt;

        var renewed = await store.RenewAsync("s", "k", stale.FencingToken, TimeSpan.FromHours(1), default);

        Assert.False(renewed);
        Assert.Equal(leaseBefore, (await store.TryClaimAsync("s", "k", "probe", null, Long, default)).LeaseExpiresAt);
        Assert.True(await store.CompleteAsync("s", "k", current.FencingToken, new StoredOutcome<string>("current", 1, Noon), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task CompleteAsync_RightToken_KeepsTheOutcomeAndTheNextClaimReturnsIt()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

        var completed = await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt 42", 3, Noon), TimeSpan.FromHours(1), default);
        var next = await store.TryClaimAsync("s", "k", "owner-b", null, Long, default);

        Assert.True(completed);
        Assert.Equal(ClaimState.Completed, next.State);
        Assert.Equal(new StoredOutcome<string>("receipt 42", 3, Noon), next.Outcome);
        Assert.Equal(new StoredOutcome<string>("receipt 42", 3, Noon), await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task CompleteAsync_WrongToken_IsRefusedAndTheKeyStaysClaimed()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

        var completed = await store.CompleteAsync("s", "k", claim.FencingToken + 1, new StoredOutcome<string>("forged", 1, Noon), TimeSpan.FromHours(1), default);

        Assert.False(completed);
        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "owner-b", null, Long, default)).State);
        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("real", 1, Noon), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task CompleteAsync_Twice_TheSecondIsRefusedAndTheFirstOutcomeKept()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("first", 1, Noon), TimeSpan.FromHours(1), default));
        Assert.False(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("second", 1, Noon), TimeSpan.FromHours(1), default));

        Assert.Equal("first", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task ReleaseAsync_RightToken_FreesTheKeyForTheNextClaim()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);
        var next = await store.TryClaimAsync("s", "k", "owner-b", null, Long, default);

        Assert.Equal(ClaimState.Claimed, next.State);
        Assert.True(next.FencingToken > claim.FencingToken);
        Assert.False(next.TakesOver);
        Assert.Null(next.PreviousOwner);
    }

    [Fact]
    public async Task ReleaseAsync_StaleToken_LeavesTheNewerClaimAlone()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", null, TimeSpan.FromSeconds(30), default);
        await harness.LapseAsync("s", "k");
        var current = await store.TryClaimAsync("s", "k", "current", null, Long, default);

        await store.ReleaseAsync("s", "k", stale.FencingToken, default);

        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "probe", null, Long, default)).State);
        Assert.True(await store.CompleteAsync("s", "k", current.FencingToken, new StoredOutcome<string>("current", 1, Noon), TimeSpan.FromHours(1), default));
    }

    [Fact]
    public async Task ReleaseAsync_CompletedKey_KeepsTheOutcome()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("done", 1, Noon), TimeSpan.FromHours(1), default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Equal("done", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task TryClaimAsync_ExpiredOutcome_IsTakenOver()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var first = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);
        await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("old", 1, Noon), TimeSpan.FromHours(1), default);
        await harness.ExpireAsync("s", "k");

        var second = await store.TryClaimAsync("s", "k", "owner-b", null, Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(second.TakesOver);
        Assert.Null(await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task TryClaimAsync_ScopesAreSeparate()
    {
        await using var harness = NewHarness();
        var store = harness.Store();

        var a = await store.TryClaimAsync("payments", "k", "owner", null, Long, default);
        var b = await store.TryClaimAsync("refunds", "k", "owner", null, Long, default);

        Assert.Equal(ClaimState.Claimed, a.State);
        Assert.Equal(ClaimState.Claimed, b.State);
    }

    [Fact]
    public async Task TryClaimAsync_ManyClaimersOnFourStoresAtOnce_ExactlyOneIsGranted()
    {
        await using var harness = NewHarness();
        var stores = Enumerable.Range(0, 4).Select(_ => harness.Store()).ToArray();

        var claims = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            stores[i % stores.Length].TryClaimAsync("s", "hot", $"owner-{i}", null, Long, default).AsTask())).Within();

        Assert.Single(claims, c => c.State == ClaimState.Claimed);
        Assert.Equal(39, claims.Count(c => c.State == ClaimState.Busy));
    }

    [Fact]
    public async Task SaveAsync_ThenTryGetAsync_ReturnsTheOutcome_AndSavingAgainReplacesIt()
    {
        await using var harness = NewHarness();
        var store = harness.Store();

        await store.SaveAsync("s", "k", new StoredOutcome<string>("first", 1, Noon), TimeSpan.FromHours(1), default);
        await store.SaveAsync("s", "k", new StoredOutcome<string>("second", 2, Noon), TimeSpan.FromHours(1), default);

        Assert.Equal(new StoredOutcome<string>("second", 2, Noon), await store.TryGetAsync("s", "k", default));
        Assert.Null(await store.TryGetAsync("other scope", "k", default));
    }

    [Fact]
    public async Task SaveAsync_OverALiveClaim_WinsAndTheClaimHoldersWriteIsRefused()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "holder", null, Long, default);

        await store.SaveAsync("s", "k", new StoredOutcome<string>("saved", 1, Noon), TimeSpan.FromHours(1), default);

        Assert.False(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("late", 1, Noon), TimeSpan.FromHours(1), default));
        Assert.Equal("saved", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task TryGetAsync_ExpiredOutcome_IsNotReturned()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        await store.SaveAsync("s", "k", new StoredOutcome<string>("old", 1, Noon), TimeSpan.FromHours(1), default);
        await harness.ExpireAsync("s", "k");

        Assert.Null(await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task RemoveAsync_AndClearAsync_DropOutcomesOfTheirScopeOnly()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        foreach (var (scope, key) in new[] { ("a", "1"), ("a", "2"), ("a", "3"), ("b", "1") })
        {
            await store.SaveAsync(scope, key, new StoredOutcome<string>(scope + key, 1, Noon), TimeSpan.FromHours(1), default);
        }

        await store.RemoveAsync("a", "1", default);
        Assert.Null(await store.TryGetAsync("a", "1", default));
        Assert.NotNull(await store.TryGetAsync("a", "2", default));
        await store.ClearAsync("a", default);

        Assert.Null(await store.TryGetAsync("a", "2", default));
        Assert.Null(await store.TryGetAsync("a", "3", default));
        Assert.Equal("b1", (await store.TryGetAsync("b", "1", default))!.Value.Value);
    }

    [Fact]
    public async Task RemoveAsync_LiveClaim_DropsItAndTheHoldersWriteIsRefused()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "holder", null, Long, default);

        await store.RemoveAsync("s", "k", default);

        Assert.False(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("late", 1, Noon), TimeSpan.FromHours(1), default));
        Assert.Equal(ClaimState.Claimed, (await store.TryClaimAsync("s", "k", "next", null, Long, default)).State);
    }

    [Theory]
    [InlineData("ключ-🔑-鍵")]
    [InlineData("with:colons:and\nnew lines")]
    [InlineData(null)]
    public async Task AnyKey_LongOrUnicode_IsClaimedCompletedAndReplayed(string? key)
    {
        // Long (about 2.4 KB of UTF-8) and incompressible: a backend that limits key size must store a digest.
        key ??= string.Concat(Enumerable.Range(0, 200).Select(i => new Random(i).Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + "é…"));
        await using var harness = NewHarness();
        var store = harness.Store();

        var claim = await store.TryClaimAsync("scope ✓", key, "owner", null, Long, default);
        Assert.True(await store.CompleteAsync("scope ✓", key, claim.FencingToken, new StoredOutcome<string>("done", 1, Noon), TimeSpan.FromHours(1), default));

        Assert.Equal("done", (await store.TryGetAsync("scope ✓", key, default))!.Value.Value);
        Assert.Null(await store.TryGetAsync("scope ✓", key + "y", default));
    }
}
