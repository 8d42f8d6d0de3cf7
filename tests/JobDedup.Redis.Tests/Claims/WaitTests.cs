using System.Diagnostics;
using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>Waiting on another instance's claim: woken by pub/sub, rescued by polling, never stuck on a dead holder.</summary>
public sealed class WaitTests(RedisServer redis) : IClassFixture<RedisServer>
{
    // Far longer than any wait below may take: a waiter that returns quickly was woken by a message, not a poll.
    private static readonly TimeSpan SlowPoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task WaitForOutcomeAsync_HolderCompletes_TheMessageWakesTheWaiterBeforeAnyPoll()
    {
        var scope = new StoreScope(redis);
        await using var holder = scope.Store();
        await using var waiter = scope.Store(o => o.PollInterval = SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads == 1, "the waiter read the held key and waits");
        var clock = Stopwatch.StartNew();
        Assert.True(await holder.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("receipt", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default));
        var outcome = await waiting.Within();

        Assert.Equal("receipt", outcome!.Value.Value);
        Assert.True(clock.Elapsed < Quickly, $"woken after {clock.Elapsed}, the poll interval is {SlowPoll}");
        Assert.Equal(1, waiter.WaitReads);
        Assert.Equal(0, waiter.Waiters);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderReleases_TheWaiterIsToldTheKeyIsFree()
    {
        var scope = new StoreScope(redis);
        await using var holder = scope.Store();
        await using var waiter = scope.Store(o => o.PollInterval = SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads == 1, "the waiter read the held key and waits");
        await holder.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Null(await waiting.Within());
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "waiter", LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderVanished_ReturnsNullJustAfterItsLease()
    {
        var scope = new StoreScope(redis);
        await using var waiter = scope.Store(o => o.PollInterval = SlowPoll);
        var clock = Stopwatch.StartNew();
        await using (var holder = scope.Store())
        {
            // Claimed, then gone without a word: no renewal, no release, no message.
            await holder.TryClaimAsync("s", "k", "vanished", TimeSpan.FromSeconds(2), default);
        }

        var outcome = await waiter.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Null(outcome);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), Quickly);
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "successor", LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_MessageMissed_PollingFindsTheOutcome()
    {
        var scope = new StoreScope(redis);
        await using var holder = scope.Store();
        await using var waiter = scope.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads >= 1, "the waiter read the held key and waits");

        // Completed behind the store's back: no message is published.
        var record = await holder.RecordKeyAsync("s", "k");
        await redis.Database.HashSetAsync(record, [new("st", "d"), new("val", "\"written without a message\""), new("att", 1), new("at", 0), new("exp", long.MaxValue / 2)]);

        Assert.Equal("written without a message", (await waiting.Within())!.Value.Value);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_FreeKey_ReturnsNullAtOnce()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store(o => o.PollInterval = SlowPoll);

        Assert.Null(await store.WaitForOutcomeAsync("s", "nobody holds this", default).AsTask().Within());
        Assert.Equal(0, store.WaitReads);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CompletedKey_ReturnsItsOutcomeAtOnce()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store(o => o.PollInterval = SlowPoll);
        var claim = await store.TryClaimAsync("s", "k", "holder", LongLease, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("kept", 2, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        var outcome = await store.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Equal("kept", outcome!.Value.Value);
        Assert.Equal(2, outcome.Value.Attempts);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CallerCancels_ItStopsWaitingAndLeavesNoWaiterBehind()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store(o => o.PollInterval = SlowPoll);
        await store.TryClaimAsync("s", "k", "holder", LongLease, default);
        using var cancel = new CancellationTokenSource();

        var waiting = store.WaitForOutcomeAsync("s", "k", cancel.Token).AsTask();
        await Watchdog.Until(() => store.WaitReads == 1, "the caller waits");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within());
        Assert.Equal(0, store.Waiters);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_StoreDisposed_TheWaiterGetsObjectDisposed()
    {
        var scope = new StoreScope(redis);
        await using var holder = scope.Store();
        var store = scope.Store(o => o.PollInterval = SlowPoll);
        await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = store.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => store.WaitReads == 1, "the caller waits");
        await store.DisposeAsync().AsTask().Within();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.Within());
    }
}
