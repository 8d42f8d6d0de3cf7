using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>Claims as rows of the real database (the backend-neutral cases are in <see cref="ContractTests"/>).</summary>
public sealed class FencingTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TryClaimAsync_FreeKey_IsGrantedAndRecordedAsClaimed()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        var claim = await store.TryClaimAsync("s", "k", "owner-a", null, Long, default);

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
        await store.TryClaimAsync("s", "k", "owner-a", null, TimeSpan.FromSeconds(30), default);

        var busy = await store.TryClaimAsync("s", "k", "owner-b", null, TimeSpan.FromSeconds(30), default);

        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(0, busy.FencingToken);
        Assert.InRange(busy.LeaseExpiresAt!.Value, before + TimeSpan.FromSeconds(29), before + TimeSpan.FromSeconds(40));
        Assert.Equal(1, await schema.CountAsync("owner = 'owner-a'"));
    }
}
