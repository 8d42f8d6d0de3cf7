using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Resilience;

/// <summary>A completion the claiming store did not take: kept here, answered to duplicates, and tried again under its claim.</summary>
public sealed class CompletionRetryTests
{
    private const int NotDurableEvent = 1022;

    [Fact]
    public async Task EnqueueAsync_CompletionFails_DuplicatesHereGetTheKeptOutcomeAndTheCompletionLandsLater()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Complete, new TimeoutException("store unreachable"), "k", times: 2);
        var runs = 0;
        await using var dedup = OnClaims(store, time, () => Interlocked.Increment(ref runs));

        var first = await dedup.EnqueueAsync(new Job("k", "A")).Within();
        Assert.Equal((JobStatus.Succeeded, JobRole.Leader, "run-1"), (first.Status, first.Role, first.Value));
        Assert.Equal(1, dedup.PendingCompletions);

        var duplicate = await dedup.EnqueueAsync(new Job("k", "B")).Within();
        Assert.Equal((JobRole.Replayed, "run-1"), (duplicate.Role, duplicate.Value));
        Assert.Equal(1, store.CountOf(StoreOperation.TryClaim, "k")); // answered here, without claiming

        // The second try fails too; the third lands.
        await AdvanceUntil(time, () => store.CountOf(StoreOperation.Complete, "k") == 2, "the completion is tried again");
        await AdvanceUntil(time, () => dedup.PendingCompletions == 0, "the completion landed");
        Assert.Equal(3, store.CountOf(StoreOperation.Complete, "k"));

        // Another instance on the same store now finds the outcome too.
        await using var other = OnClaims(store, time, () => Interlocked.Increment(ref runs));
        var elsewhere = await other.EnqueueAsync(new Job("k", "C")).Within();
        Assert.Equal((JobRole.Replayed, "run-1"), (elsewhere.Role, elsewhere.Value));
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task EnqueueAsync_CompletionFails_ClaimIsRenewedWhileItIsTriedAgain()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Complete, new TimeoutException("store unreachable"), "k", times: 3);
        await using var dedup = OnClaims(store, time, () => { });

        await dedup.EnqueueAsync(new Job("k", "A")).Within();
        await AdvanceUntil(time, () => dedup.PendingCompletions == 0, "the completion landed");

        Assert.True(store.CountOf(StoreOperation.Renew, "k") >= 1, "the lease was renewed while the completion waited");
        Assert.Equal(4, store.CountOf(StoreOperation.Complete, "k"));
    }

    [Fact]
    public async Task ForgetAsync_WhileTheCompletionIsPending_NextArrivalRunsAgain()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Complete, new TimeoutException("store unreachable"), "k", times: 1);
        var runs = 0;
        await using var dedup = OnClaims(store, time, () => Interlocked.Increment(ref runs));

        await dedup.EnqueueAsync(new Job("k", "A")).Within();
        Assert.Equal(1, dedup.PendingCompletions);
        await dedup.ForgetAsync("k").AsTask().Within();
        Assert.Equal(0, dedup.PendingCompletions);

        var again = await dedup.EnqueueAsync(new Job("k", "B")).Within();
        Assert.Equal((JobRole.Leader, "run-2"), (again.Role, again.Value));
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task StopAsync_StoreStaysDown_EndsWithinTheShutdownTimeoutAndNamesTheKeyNotKept()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Complete, new TimeoutException("store unreachable"), "k");
        store.Throw(StoreOperation.Renew, new TimeoutException("store unreachable"), "k");
        var logs = new LogSink();
        var dedup = OnClaims(store, time, () => { }, o => o.ShutdownTimeout = TimeSpan.FromSeconds(2), logs);

        await dedup.EnqueueAsync(new Job("k", "A")).Within();
        var stop = dedup.StopAsync();

        // The retry's timer and the stop's own wait for the pending completion.
        await Watchdog.Until(() => time.PendingTimers >= 2, "the stop waits for the pending completion");
        Assert.False(stop.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));

        await stop.Within();
        Assert.Equal(0, dedup.PendingCompletions);
        var line = Assert.Single(logs.Events, e => e.Id.Id == NotDurableEvent);
        Assert.Contains("k", line.Message);
        Assert.True(time.GetUtcNow() - time.Start <= TimeSpan.FromSeconds(3), "the stop waited no longer than its timeout");
    }

    private static async Task AdvanceUntil(TimerCountingTimeProvider time, Func<bool> done, string what)
    {
        for (var i = 0; i < 50 && !done(); i++)
        {
            await Watchdog.Until(() => done() || time.PendingTimers > 0, "a retry timer is armed");
            if (!done())
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
            }
        }

        await Watchdog.Until(done, what);
    }

    private static JobDeduplicator<Job, string> OnClaims(
        ScriptableOutcomeStore<string> store,
        TimeProvider time,
        Action onRun,
        Action<JobDedupOptions<Job>>? configure = null,
        LogSink? logs = null)
    {
        var runs = 0;
        return Dedup.Create(
            (job, _, _) =>
            {
                onRun();
                return ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}");
            },
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.ClaimLease = TimeSpan.FromSeconds(30);
                o.StoreMinimumThroughput = 100; // these tests are about the retry, not the breaker
                configure?.Invoke(o);
            },
            time,
            store,
            logs);
    }
}
