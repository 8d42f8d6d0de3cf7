using System.Diagnostics;
using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>Waiting on another instance's claim: woken by NOTIFY, rescued by polling, never stuck on a dead holder.</summary>
public sealed class WaitTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    // Far longer than any wait below may take: a waiter that returns quickly was woken by a notification, not a poll.
    private static readonly TimeSpan SlowPoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task WaitForOutcomeAsync_HolderCompletes_TheNotificationWakesTheWaiterBeforeAnyPoll()
    {
        await using var schema = database.NewSchema();
        await using var holder = schema.Store();
        await using var waiter = schema.Store(o => o.PollInterval = SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads == 1 && waiter.IsListening, "the waiter read the held key and waits");
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
        await using var schema = database.NewSchema();
        await using var holder = schema.Store();
        await using var waiter = schema.Store(o => o.PollInterval = SlowPoll);
        var claim = await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads == 1, "the waiter read the held key and waits");
        var clock = Stopwatch.StartNew();
        await holder.ReleaseAsync("s", "k", claim.FencingToken, default);

        Assert.Null(await waiting.Within());
        Assert.True(clock.Elapsed < Quickly, $"woken after {clock.Elapsed}, the poll interval is {SlowPoll}");
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "waiter", LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_HolderVanished_ReturnsNullJustAfterItsLease()
    {
        await using var schema = database.NewSchema();
        await using var waiter = schema.Store(o => o.PollInterval = SlowPoll);
        var clock = Stopwatch.StartNew();
        await using (var holder = schema.Store())
        {
            // Claimed, then gone without a word: no renewal, no release, no notification.
            await holder.TryClaimAsync("s", "k", "vanished", TimeSpan.FromSeconds(2), default);
        }

        var outcome = await waiter.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Null(outcome);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), Quickly);
        Assert.Equal(ClaimState.Claimed, (await waiter.TryClaimAsync("s", "k", "successor", LongLease, default)).State);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_NotificationMissed_PollingFindsTheOutcome()
    {
        await using var schema = database.NewSchema();
        await using var holder = schema.Store();
        await using var waiter = schema.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads >= 1, "the waiter read the held key and waits");

        // Completed behind the store's back: no NOTIFY is sent.
        var json = "\"written without a notification\"";
        await schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET status = 'completed', outcome = convert_to('{json}', 'UTF8'), attempts = 1, completed_at = now(), expires_at = now() + interval '1 hour'");

        Assert.Equal("written without a notification", (await waiting.Within())!.Value.Value);
        Assert.True(waiter.WaitReads >= 1);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_NotificationConnectionDrops_ItReconnectsAndStillWakesTheWaiter()
    {
        await using var schema = database.NewSchema();
        var application = "jdt_listener_" + Guid.NewGuid().ToString("N")[..8];
        await using var holder = schema.Store();
        await using var waiter = schema.Store(o =>
        {
            o.PollInterval = SlowPoll;
            o.ConnectionString += $";Application Name={application}";
        });
        var claim = await holder.TryClaimAsync("s", "k", "holder", LongLease, default);
        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads == 1 && waiter.IsListening, "the waiter listens and waits");
        var listenerPid = await ListenerPidAsync(schema, application);

        var terminated = await schema.ScalarAsync<bool>($"SELECT pg_terminate_backend({listenerPid})");
        await Watchdog.Until(async () => await ListenerPidAsync(schema, application) is { } pid && pid != listenerPid && waiter.IsListening, "the listener reconnected");
        await Watchdog.Until(() => waiter.WaitReads >= 2, "the waiter read the key again after the reconnect");
        var clock = Stopwatch.StartNew();
        await holder.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("after the reconnect", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        Assert.True(terminated);
        Assert.Equal("after the reconnect", (await waiting.Within())!.Value.Value);
        Assert.True(clock.Elapsed < Quickly, $"woken after {clock.Elapsed}, the poll interval is {SlowPoll}");
    }

    [Fact]
    public async Task WaitForOutcomeAsync_FreeKey_ReturnsNullAtOnce()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.PollInterval = SlowPoll);

        Assert.Null(await store.WaitForOutcomeAsync("s", "nobody holds this", default).AsTask().Within());
        Assert.Equal(0, store.WaitReads);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CompletedKey_ReturnsItsOutcomeAtOnce()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.PollInterval = SlowPoll);
        var claim = await store.TryClaimAsync("s", "k", "holder", LongLease, default);
        await store.CompleteAsync("s", "k", claim.FencingToken, new StoredOutcome<string>("kept", 2, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);

        var outcome = await store.WaitForOutcomeAsync("s", "k", default).AsTask().Within();

        Assert.Equal("kept", outcome!.Value.Value);
        Assert.Equal(2, outcome.Value.Attempts);
    }

    [Fact]
    public async Task WaitForOutcomeAsync_CallerCancels_ItStopsWaitingAndLeavesNoWaiterBehind()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.PollInterval = SlowPoll);
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
        await using var schema = database.NewSchema();
        await using var holder = schema.Store();
        var store = schema.Store(o => o.PollInterval = SlowPoll);
        await holder.TryClaimAsync("s", "k", "holder", LongLease, default);

        var waiting = store.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => store.WaitReads == 1, "the caller waits");
        await store.DisposeAsync().AsTask().Within();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.Within());
    }

    private static async Task<int?> ListenerPidAsync(TestSchema schema, string application)
    {
        var pid = await schema.ScalarAsync<object>(
            $"SELECT pid FROM pg_stat_activity WHERE application_name = '{application}' AND query LIKE 'LISTEN%' ORDER BY backend_start DESC LIMIT 1");
        return pid is int value ? value : null;
    }
}
