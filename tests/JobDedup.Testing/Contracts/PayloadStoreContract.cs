namespace JobDedup.Testing.Contracts;

/// <summary>
/// What every durable claiming store must keep besides the value: the payload fingerprint of a claim and of an
/// outcome, and a kept failure, through every way a key is written (claim, complete, save) and read (try-get, a claim
/// that finds the key busy or completed, a wait). A store's test project derives from it and supplies the harness.
/// </summary>
public abstract class PayloadStoreContract
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private const string FingerprintA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private const string FingerprintB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    protected abstract IClaimingStoreHarness NewHarness();

    [Fact]
    public async Task SaveAsync_WithAFingerprint_TryGetAsyncReturnsItWithTheValue()
    {
        await using var harness = NewHarness();
        var store = harness.Store();

        await store.SaveAsync("s", "k", new StoredOutcome<string>("receipt", 2, Noon) { Fingerprint = FingerprintA }, Hour, default);
        await store.SaveAsync("s", "plain", new StoredOutcome<string>("receipt", 2, Noon), Hour, default);

        var kept = (await store.TryGetAsync("s", "k", default))!.Value;
        Assert.Equal(new StoredOutcome<string>("receipt", 2, Noon) { Fingerprint = FingerprintA }, kept);
        Assert.Null(kept.Failure);
        var plain = (await store.TryGetAsync("s", "plain", default))!.Value;
        Assert.Null(plain.Fingerprint);
        Assert.Equal("receipt", plain.Value);
    }

    [Fact]
    public async Task SaveAsync_AgainWithoutAFingerprint_DropsTheEarlierOne()
    {
        await using var harness = NewHarness();
        var store = harness.Store();

        await store.SaveAsync("s", "k", new StoredOutcome<string>("first", 1, Noon) { Fingerprint = FingerprintA }, Hour, default);
        await store.SaveAsync("s", "k", new StoredOutcome<string>("second", 1, Noon), Hour, default);

        var kept = (await store.TryGetAsync("s", "k", default))!.Value;
        Assert.Equal("second", kept.Value);
        Assert.Null(kept.Fingerprint);
    }

    [Fact]
    public async Task TryClaimAsync_KeyHeldByAnotherStore_BusyReportsTheHoldersFingerprint()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var other = harness.Store();
        var claimed = await holder.TryClaimAsync("s", "k", "holder", FingerprintA, Long, default);
        await holder.TryClaimAsync("s", "unmarked", "holder", null, Long, default);

        var busy = await other.TryClaimAsync("s", "k", "other", FingerprintB, Long, default);
        var busyUnmarked = await other.TryClaimAsync("s", "unmarked", "other", FingerprintB, Long, default);

        Assert.Equal(ClaimState.Claimed, claimed.State);
        Assert.Null(claimed.Fingerprint);
        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal(FingerprintA, busy.Fingerprint);
        Assert.Equal(ClaimState.Busy, busyUnmarked.State);
        Assert.Null(busyUnmarked.Fingerprint);
    }

    [Fact]
    public async Task TryClaimAsync_TakingOverALapsedClaim_BusyThenReportsTheNewClaimsFingerprint()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        await store.TryClaimAsync("s", "k", "crashed", FingerprintA, Long, default);
        await harness.LapseAsync("s", "k");

        var taken = await store.TryClaimAsync("s", "k", "successor", FingerprintB, Long, default);
        var busy = await store.TryClaimAsync("s", "k", "probe", null, Long, default);

        Assert.Equal(ClaimState.Claimed, taken.State);
        Assert.True(taken.TakesOver);
        Assert.Equal(FingerprintB, busy.Fingerprint);
    }

    [Fact]
    public async Task CompleteAsync_WithAFingerprint_TheNextClaimsCompletedOutcomeCarriesIt()
    {
        await using var harness = NewHarness();
        var runner = harness.Store();
        var other = harness.Store();
        var claim = await runner.TryClaimAsync("s", "k", "runner", FingerprintA, Long, default);

        Assert.True(await runner.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 3, Noon) { Fingerprint = FingerprintA }, Hour, default));
        var next = await other.TryClaimAsync("s", "k", "other", FingerprintB, Long, default);

        Assert.Equal(ClaimState.Completed, next.State);
        Assert.Equal(new StoredOutcome<string>("receipt", 3, Noon) { Fingerprint = FingerprintA }, next.Outcome);
        Assert.Equal(FingerprintA, (await other.TryGetAsync("s", "k", default))!.Value.Fingerprint);
    }

    [Fact]
    public async Task CompleteAsync_TheOutcomesFingerprint_ReplacesTheClaims()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", FingerprintA, Long, default);

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 1, Noon) { Fingerprint = FingerprintB }, Hour, default));

        Assert.Equal(FingerprintB, (await store.TryGetAsync("s", "k", default))!.Value.Fingerprint);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderCompletes_ReturnsTheFingerprintAndTheFailure()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var waiter = harness.Store();
        var claim = await holder.TryClaimAsync("s", "k", "holder", FingerprintA, Long, default);
        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => harness.Waiters(waiter) == 1, "the waiter waits on the holder's claim");
        Assert.False(waiting.IsCompleted);

        var failure = new StoredFailure("System.InvalidOperationException", "card declined");
        Assert.True(await holder.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>(null!, 2, Noon) { Fingerprint = FingerprintA, Failure = failure }, Hour, default));

        var outcome = (await waiting.Within())!.Value;
        Assert.Equal(FingerprintA, outcome.Fingerprint);
        Assert.Equal(failure, outcome.Failure);
        Assert.Equal(2, outcome.Attempts);
        Assert.Equal(Noon, outcome.CompletedAt);
    }

    [Fact]
    public async Task CompleteAsync_AKeptFailure_IsReturnedByTryGetAndByTheNextClaim()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var other = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", FingerprintA, Long, default);
        var failure = new StoredFailure("System.Net.Http.HttpRequestException", "Response status code does not indicate success: 422 (Unprocessable Entity).");

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>(null!, 3, Noon) { Fingerprint = FingerprintA, Failure = failure }, Hour, default));
        var kept = (await other.TryGetAsync("s", "k", default))!.Value;
        var next = await other.TryClaimAsync("s", "k", "other", FingerprintA, Long, default);

        Assert.Equal(failure, kept.Failure);
        Assert.Null(kept.Value);
        Assert.Equal(3, kept.Attempts);
        Assert.Equal(Noon, kept.CompletedAt);
        Assert.Equal(FingerprintA, kept.Fingerprint);
        Assert.Equal(ClaimState.Completed, next.State);
        Assert.Equal(kept, next.Outcome);
    }

    [Fact]
    public async Task SaveAsync_AKeptFailure_IsReturned_AndASuccessSavedOverItClearsIt()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var failure = new StoredFailure("System.TimeoutException", "The operation has timed out.");

        await store.SaveAsync("s", "k", new StoredOutcome<string>(null!, 1, Noon) { Failure = failure }, Hour, default);
        var failed = (await store.TryGetAsync("s", "k", default))!.Value;
        await store.SaveAsync("s", "k", new StoredOutcome<string>("receipt", 2, Noon), Hour, default);
        var succeeded = (await store.TryGetAsync("s", "k", default))!.Value;

        Assert.Equal(failure, failed.Failure);
        Assert.Null(failed.Fingerprint);
        Assert.Null(succeeded.Failure);
        Assert.Equal("receipt", succeeded.Value);
    }

    [Fact]
    public async Task TryClaimAsync_AfterAKeptFailureExpired_TheNewClaimsOutcomeHasNoFailure()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var first = await store.TryClaimAsync("s", "k", "runner", FingerprintA, Long, default);
        await store.CompleteAsync("s", "k", first.FencingToken, new StoredOutcome<string>(null!, 1, Noon) { Fingerprint = FingerprintA, Failure = new("System.Exception", "boom") }, Hour, default);
        await harness.ExpireAsync("s", "k");

        var second = await store.TryClaimAsync("s", "k", "runner", null, Long, default);
        var busy = await store.TryClaimAsync("s", "k", "probe", FingerprintB, Long, default);
        Assert.True(await store.CompleteAsync("s", "k", second.FencingToken, new StoredOutcome<string>("fixed", 1, Noon), Hour, default));
        var kept = (await store.TryGetAsync("s", "k", default))!.Value;

        Assert.Equal(ClaimState.Claimed, second.State);
        Assert.Null(busy.Fingerprint);
        Assert.Equal("fixed", kept.Value);
        Assert.Null(kept.Failure);
        Assert.Null(kept.Fingerprint);
    }

    [Fact]
    public async Task EmptyTexts_AreKeptAsEmpty_NotAsNone()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var claim = await store.TryClaimAsync("s", "k", "runner", string.Empty, Long, default);
        var busy = await store.TryClaimAsync("s", "k", "probe", null, Long, default);

        Assert.True(await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>(null!, 1, Noon) { Fingerprint = string.Empty, Failure = new("System.Exception", string.Empty) }, Hour, default));
        var kept = (await store.TryGetAsync("s", "k", default))!.Value;

        Assert.Equal(string.Empty, busy.Fingerprint);
        Assert.Equal(string.Empty, kept.Fingerprint);
        Assert.Equal(new StoredFailure("System.Exception", string.Empty), kept.Failure);
    }

    [Fact]
    public async Task Texts_OfAnyCharacters_RoundTrip()
    {
        await using var harness = NewHarness();
        var store = harness.Store();
        var fingerprint = "fp:ключ-✓-🔑\n=" + new string('x', 600);
        var failure = new StoredFailure("My.Namespace.Ошибка`1[[System.String]]", "line one\nline two: 'quoted' \"double\" \\ ✓ 🔑 \t end");

        await store.SaveAsync("s", "k", new StoredOutcome<string>(null!, 1, Noon) { Fingerprint = fingerprint, Failure = failure }, Hour, default);
        var kept = (await store.TryGetAsync("s", "k", default))!.Value;

        Assert.Equal(fingerprint, kept.Fingerprint);
        Assert.Equal(failure, kept.Failure);
    }
}
