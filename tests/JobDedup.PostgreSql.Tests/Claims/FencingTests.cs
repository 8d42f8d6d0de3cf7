using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>Claims, leases and fencing tokens against the real database: every stale write affects nothing.</summary>
public sealed class FencingTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TryClaimAsync_FreeKey_IsGrantedAndRecordedAsClaimed()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        Assert.Equal(ClaimState.Claimed, claim.State);
        Assert.True(claim.FencingToken > 0);
        Assert.Equal(1, await schema.CountAsync($"status = 'claimed' AND owner = 'owner-a' AND fencing_token = {claim.FencingToken}"));
    }

    [Fact]
    public async Task TryClaimAsync_LiveClaim_ReportsBusyWithTheLeaseOnTheDatabaseClock()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var before = await schema.DatabaseNowAsync();
        await store.TryClaimAsync("s", "k", "owner-a", TimeSpan.FromSeconds(30), default);

        var busy = await store.TryClaimAsync("s", "k", "owner-b", TimeSpan.FromSeconds(30), default);

        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(0, busy.FencingToken);
        Assert.InRange(busy.LeaseExpiresAt!.Value, before + TimeSpan.FromSeconds(29), before + TimeSpan.FromSeconds(40));
        Assert.Equal(1, await schema.CountAsync("owner = 'owner-a'"));
    }

    [Fact]
    public async Task TryClaimAsync_LapsedClaim_IsTakenOverWithALargerToken()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var first = await store.TryClaimAsync("s", "k", "crashed", TimeSpan.FromSeconds(30), default);
        await LapseAsync(schema, "k");

        var second = await store.TryClaimAsync("s", "k", "successor", Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Equal(1, await schema.CountAsync($"owner = 'successor' AND fencing_token = {second.FencingToken}"));
    }

    [Fact]
    public async Task RenewAsync_RightToken_ExtendsTheLease()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
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
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", TimeSpan.FromSeconds(30), default);
        await LapseAsync(schema, "k");
        var current = await store.TryClaimAsync("s", "k", "current", TimeSpan.FromSeconds(30), default);
        var leaseBefore = await schema.ScalarAsync<DateTimeOffset>($"SELECT lease_expires_at FROM {schema.QualifiedTable}");

        var renewed = await store.RenewAsync("s", "k", stale.FencingToken, TimeSpan.FromHours(1), default);

        Assert.False(renewed);
        Assert.Equal(leaseBefore, await schema.ScalarAsync<DateTimeOffset>($"SELECT lease_expires_at FROM {schema.QualifiedTable}"));
        Assert.Equal(1, await schema.CountAsync($"fencing_token = {current.FencingToken}"));
    }

    [Fact]
    public async Task CompleteAsync_RightToken_KeepsTheOutcomeAndTheNextClaimReturnsIt()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
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
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
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
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("first", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
        Assert.False(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("second", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));

        Assert.Equal("first", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task ReleaseAsync_RightToken_FreesTheKeyForTheNextClaim()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);
        var next = await store.TryClaimAsync("s", "k", "owner-b", Long, default);

        Assert.Equal(ClaimState.Claimed, next.State);
        Assert.True(next.FencingToken > claim.FencingToken);
    }

    [Fact]
    public async Task ReleaseAsync_StaleToken_LeavesTheNewerClaimAlone()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var stale = await store.TryClaimAsync("s", "k", "stale", TimeSpan.FromSeconds(30), default);
        await LapseAsync(schema, "k");
        var current = await store.TryClaimAsync("s", "k", "current", Long, default);

        await store.ReleaseAsync("s", "k", stale.FencingToken, default);

        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", "k", "probe", Long, default)).State);
        Assert.Equal(1, await schema.CountAsync($"fencing_token = {current.FencingToken}"));
    }

    [Fact]
    public async Task ReleaseAsync_CompletedKey_KeepsTheOutcome()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var claim = await store.TryClaimAsync("s", "k", "owner-a", Long, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("done", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        await store.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Equal("done", (await store.TryGetAsync("s", "k", default))!.Value.Value);
    }

    [Fact]
    public async Task TryClaimAsync_ExpiredOutcome_IsTakenOver()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var first = await store.TryClaimAsync("s", "k", "owner-a", Long, default);
        await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>("old", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);
        await schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET expires_at = now() - interval '1 second'");

        var second = await store.TryClaimAsync("s", "k", "owner-b", Long, default);

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Null(await store.TryGetAsync("s", "k", default));
    }

    [Fact]
    public async Task TryClaimAsync_ScopesAreSeparate()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        var a = await store.TryClaimAsync("payments", "k", "owner", Long, default);
        var b = await store.TryClaimAsync("refunds", "k", "owner", Long, default);

        Assert.Equal(ClaimState.Claimed, a.State);
        Assert.Equal(ClaimState.Claimed, b.State);
    }

    [Fact]
    public async Task TryClaimAsync_ManyClaimersAtOnce_ExactlyOneIsGranted()
    {
        await using var schema = database.NewSchema();
        var stores = Enumerable.Range(0, 4).Select(_ => schema.Store()).ToArray();
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

    /// <summary>Moves a claim's lease into the past, as if its holder had stopped renewing it long ago.</summary>
    private static Task<int> LapseAsync(TestSchema schema, string key) =>
        schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET lease_expires_at = now() - interval '1 second' WHERE key = '{key}'");
}
