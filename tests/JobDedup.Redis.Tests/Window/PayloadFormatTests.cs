using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Window;

/// <summary>
/// Fingerprints and kept failures as fields of a record's hash, and records written before them (the backend-neutral
/// cases are in <see cref="Claims.PayloadContractTests"/>).
/// </summary>
public sealed class PayloadFormatTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    // Far in the future on any server clock (Unix ms): the records below stay live.
    private const long Later = 9_999_999_999_999;

    [Fact]
    public async Task RecordsWrittenBeforeFingerprints_ReadAsHavingNone()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        // A kept outcome and a live claim exactly as the store wrote them before fingerprints and kept failures.
        var done = await store.RecordKeyAsync("payments", "evt_1");
        await redis.Database.HashSetAsync(done, [new("st", "d"), new("tok", 1), new("val", "\"receipt 1\""), new("att", 2), new("at", Noon.UtcTicks), new("exp", Later)]);
        var claimed = await store.RecordKeyAsync("payments", "evt_2");
        await redis.Database.HashSetAsync(claimed, [new("st", "c"), new("tok", 2), new("own", "old instance"), new("hb", string.Empty), new("lease", Later), new("exp", Later)]);

        var kept = await store.TryGetAsync("payments", "evt_1", default);
        var completed = await store.TryClaimAsync("payments", "evt_1", "new instance", "fp", Long, default);
        var busy = await store.TryClaimAsync("payments", "evt_2", "new instance", "fp", Long, default);

        Assert.Equal(new StoredOutcome<string>("receipt 1", 2, Noon), kept);
        Assert.Null(kept!.Value.Fingerprint);
        Assert.Null(kept.Value.Failure);
        Assert.Equal(ClaimState.Completed, completed.State);
        Assert.Equal(new StoredOutcome<string>("receipt 1", 2, Noon), completed.Outcome);
        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Null(busy.Fingerprint);
    }

    [Fact]
    public async Task Fields_HoldTheFingerprintAndTheFailure_AndAFailureHasAnEmptyValue()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", "fp-claim", Long, default);
        var claimFingerprint = await scope.FieldAsync(store, "s", "k", "fp");

        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>(null!, 1, Noon) { Fingerprint = "fp-outcome", Failure = new("System.Exception", "boom") }, TimeSpan.FromHours(1), default);

        Assert.Equal("fp-claim", claimFingerprint);
        Assert.Equal("fp-outcome", await scope.FieldAsync(store, "s", "k", "fp"));
        Assert.Equal("System.Exception", await scope.FieldAsync(store, "s", "k", "ft"));
        Assert.Equal("boom", await scope.FieldAsync(store, "s", "k", "fm"));
        Assert.Equal(string.Empty, await scope.FieldAsync(store, "s", "k", "val"));
        Assert.Null(await scope.FieldAsync(store, "s", "k", "own"));
    }

    [Fact]
    public async Task ASuccessWithoutAFingerprint_WritesNoneOfTheNewFields()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", null, Long, default);

        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 1, Noon), TimeSpan.FromHours(1), default);

        var fields = (await redis.Database.HashKeysAsync(await store.RecordKeyAsync("s", "k"))).Select(f => (string)f!).Order();
        Assert.Equal(["at", "att", "exp", "st", "tok", "val"], fields);
    }

    [Fact]
    public async Task AnOutcomeWithoutAFingerprint_CompletingAClaimThatHadOne_DropsTheClaimsFingerprint()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", "fp-claim", Long, default);

        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 1, Noon), TimeSpan.FromHours(1), default);

        Assert.Null(await scope.FieldAsync(store, "s", "k", "fp"));
        Assert.Null((await store.TryGetAsync("s", "k", default))!.Value.Fingerprint);
    }
}
