using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Outcomes;

/// <summary>The engine's side of a claiming (durable) store: claim, renew, complete under the fencing token, release.</summary>
public sealed class ClaimingStoreTests
{
    [Fact]
    public async Task TwoDeduplicatorsOnOneStore_SameKey_OneRunAndTheOtherReplaysIt()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        var runs = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "charged " + job.Payload;
        };
        await using var first = Dedup.Create(handler, o => o.CompletedRetention = TimeSpan.FromHours(1), time, store);
        await using var second = Dedup.Create(handler, o => o.CompletedRetention = TimeSpan.FromHours(1), time, store);

        var a = first.EnqueueAsync(new Job("evt_1", "A")).AsTask();
        await gate.Reached.Within();
        var b = second.EnqueueAsync(new Job("evt_1", "B")).AsTask();
        await Watchdog.Until(() => store.CountOf(StoreOperation.WaitForOutcome) == 1, "the second instance waits on the claim");
        gate.Open();

        var led = await a.Within();
        var waited = await b.Within();
        Assert.Equal(1, runs);
        Assert.Equal("charged A", led.Value);
        Assert.Equal(JobRole.Leader, led.Role);
        Assert.Equal("charged A", waited.Value);
        Assert.Equal(JobRole.Replayed, waited.Role);
    }

    [Fact]
    public async Task ClaimedElsewhereReject_ReturnsRejectedAtOnce()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var first = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            },
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            time,
            store);
        await using var second = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("must not run"),
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.WhenClaimedElsewhere = ClaimedElsewhereMode.Reject;
            },
            time,
            store);

        var a = first.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var rejected = await second.EnqueueAsync(new Job("k", "B")).Within();
        gate.Open();

        Assert.Equal(JobStatus.Rejected, rejected.Status);
        Assert.Contains("another instance", rejected.Exception!.Message);
        Assert.Equal("done", (await a.Within()).Value);
    }

    [Fact]
    public async Task FailedRun_ReleasesItsClaim_AndIsNeverKept()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("declined") : ValueTask.FromResult("ok"),
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            time,
            store);

        Assert.Equal(JobStatus.Failed, (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Status);
        Assert.Equal(1, store.CountOf(StoreOperation.Release));
        var second = await dedup.EnqueueAsync(new Job("k", "2")).Within();

        Assert.Equal("ok", second.Value);
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task LongRun_RenewsItsLease_SoNoOtherInstanceTakesTheKey()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            },
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.ClaimLease = TimeSpan.FromSeconds(30);
            },
            time,
            store);

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        for (var i = 1; i <= 3; i++)
        {
            await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
            time.Advance(TimeSpan.FromSeconds(10));
            await Watchdog.Until(() => store.CountOf(StoreOperation.Renew) == i, $"renewal {i}");
        }

        // 30 s have passed since the claim: without renewals it would have lapsed.
        var claim = await store.TryClaimAsync("test", "k", "someone else", TimeSpan.FromSeconds(30), default);
        gate.Open();

        Assert.Equal(ClaimState.Busy, claim.State);
        Assert.Equal("done", (await call.Within()).Value);
    }

    [Fact]
    public async Task LapsedClaim_TheStaleLeadersLateOutcomeIsRefusedAndTheNewerOneKept()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var stale = await store.TryClaimAsync("test", "k", "crashed instance", TimeSpan.FromSeconds(5), default);
        time.Advance(TimeSpan.FromSeconds(6));
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            time,
            store);

        var taken = await dedup.EnqueueAsync(new Job("k", "A")).Within();
        var late = await store.CompleteAsync("test", "k", stale.FencingToken, new StoredOutcome<string>("stale", 1, time.GetUtcNow()), TimeSpan.FromHours(1), default);
        var replay = await dedup.EnqueueAsync(new Job("k", "B")).Within();

        Assert.Equal("run 1", taken.Value);
        Assert.False(late);
        Assert.Equal("run 1", replay.Value);
        Assert.Equal(JobRole.Replayed, replay.Role);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task WaitingInstance_ClaimsTheKeyOnceTheHoldersLeaseLapses()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        await store.TryClaimAsync("test", "k", "crashed instance", TimeSpan.FromSeconds(5), default);
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            time,
            store);

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await Watchdog.Until(() => store.CountOf(StoreOperation.WaitForOutcome) == 1, "the flight waits on the other claim");
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        store.Poke();

        Assert.Equal("run 1", (await call.Within()).Value);
        Assert.Equal(1, runs);
    }
}
