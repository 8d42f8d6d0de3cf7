using System.Diagnostics;
using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>Waiting on a claim through the NOTIFY connection: missed notifications, a dropped connection (the backend-neutral cases are in <see cref="WaitContractTests"/>).</summary>
public sealed class WaitTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    // Far longer than any wait below may take: a waiter that returns quickly was woken by a notification, not a poll.
    private static readonly TimeSpan SlowPoll = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task WaitForOutcomeAsync_NotificationMissed_PollingFindsTheOutcome()
    {
        await using var schema = database.NewSchema();
        await using var holder = schema.Store();
        await using var waiter = schema.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);

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
        var claim = await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);
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

    private static async Task<int?> ListenerPidAsync(TestSchema schema, string application)
    {
        var pid = await schema.ScalarAsync<object>(
            $"SELECT pid FROM pg_stat_activity WHERE application_name = '{application}' AND query LIKE 'LISTEN%' ORDER BY backend_start DESC LIMIT 1");
        return pid is int value ? value : null;
    }
}
