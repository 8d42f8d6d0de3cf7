using System.Diagnostics;

namespace JobDedup.Testing.Contracts;

/// <summary>
/// Waiting on another instance's claim, whatever the backend: woken by the store's own wake-ups (not a poll), told
/// when the key is free, never stuck on a dead holder, and leaving nothing behind.
/// </summary>
public abstract class ClaimWaitContract
{
    // Far longer than any wait below may take: a waiter that returns quickly was woken, not polled.
    private static readonly TimeSpan SlowPoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    protected abstract IClaimingStoreHarness NewHarness();

    [Fact]
    public async Task WaitForOutcomeAsync_HolderCompletes_TheWakeUpArrivesBeforeAnyPoll()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var waiter = harness.Store(SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => harness.WaitReads(waiter) == 1, "the waiter read the held key and waits");
        var clock = Stopwatch.StartNew();
        Assert.True(await holder.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
        var outcome = await waiting.Within();

        Assert.Equal("receipt", outcome!.Value.Value);
        Assert.True(clock.Elapsed < Quickly, $"woken after {clock.Elapsed}, the poll interval is {SlowPoll}");
        Assert.Equal(1, harness.WaitReads(waiter));
        Assert.Equal(0, harness.Waiters(waiter));
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderReleases_TheWaiterIsToldTheKeyIsFree()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var waiter = harness.Store(SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => harness.WaitReads(waiter) == 1, "the waiter read the held key and waits");
        var clock = Stopwatch.StartNew();
        await holder.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Null(await waiting.Within());
        Assert.True(clock.Elapsed < Quickly, $"woken after {clock.Elapsed}, the poll interval is {SlowPoll}");
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "waiter", null, LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderVanished_ReturnsNullJustAfterItsLease()
    {
        await using var harness = NewHarness();
        var waiter = harness.Store(SlowPoll);
        var clock = Stopwatch.StartNew();

        // Claimed, then never heard of again: no renewal, no release, no wake-up.
        await harness.Store().TryClaimAsync("s", "k", "vanished", null, TimeSpan.FromSeconds(2), default);

        var outcome = await waiter.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Null(outcome);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), Quickly);
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "successor", null, LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_FreeKey_ReturnsNullAtOnce()
    {
        await using var harness = NewHarness();
        var store = harness.Store(SlowPoll);

        Assert.Null(await store.WaitForOutcomeAsync("s", "nobody holds this", default).AsTask().Within());
        Assert.Equal(0, harness.WaitReads(store));
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CompletedKey_ReturnsItsOutcomeAtOnce()
    {
        await using var harness = NewHarness();
        var store = harness.Store(SlowPoll);
        var claim = await store.TryClaimAsync("s", "k", "holder", null, LongLease, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("kept", 2, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        var outcome = await store.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Equal("kept", outcome!.Value.Value);
        Assert.Equal(2, outcome.Value.Attempts);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CallerCancels_ItStopsWaitingAndLeavesNoWaiterBehind()
    {
        await using var harness = NewHarness();
        var store = harness.Store(SlowPoll);
        await store.TryClaimAsync("s", "k", "holder", null, LongLease, default);
        using var cancel = new CancellationTokenSource();

        var waiting = store.WaitForOutcomeAsync("s", "k", cancel.Token).AsTask();
        await Watchdog.Until(() => harness.WaitReads(store) == 1, "the caller waits");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within());
        Assert.Equal(0, harness.Waiters(store));
    }

    [Fact]
    public async Task WaitForOutcomeAsync_StoreDisposed_TheWaiterGetsObjectDisposed()
    {
        await using var harness = NewHarness();
        var holder = harness.Store();
        var store = harness.Store(SlowPoll);
        await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);

        var waiting = store.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => harness.WaitReads(store) == 1, "the caller waits");
        await ((IAsyncDisposable)store).DisposeAsync().AsTask().Within();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.Within());
    }

    [Fact]
    public async Task ClearAsync_WakesWaitersOfTheScope()
    {
        await using var harness = NewHarness();
        var store = harness.Store(SlowPoll);
        await store.TryClaimAsync("a", "k", "holder", null, LongLease, default);
        var waiting = store.WaitForOutcomeAsync("a", "k", default).AsTask();
        await Watchdog.Until(() => harness.WaitReads(store) == 1, "the caller waits");

        await store.ClearAsync("a", default);

        Assert.Null(await waiting.Within());
    }
}
