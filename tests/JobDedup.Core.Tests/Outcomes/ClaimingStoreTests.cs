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
        await using var first = Dedup.Create(handler, o => o.DedupeWindow = TimeSpan.FromHours(1), time, store);
        await using var second = Dedup.Create(handler, o => o.DedupeWindow = TimeSpan.FromHours(1), time, store);

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KeyBusyReject_ReturnsRejectedAtOnce(bool byTheRejectPolicy)
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var first = Dedup.OnClaims(
            store,
            time,
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            });
        await using var second = Dedup.OnClaims(
            store,
            time,
            (job, _, _) => ValueTask.FromResult("must not run"),
            o =>
            {
                // The Reject duplicate policy refuses a key busy elsewhere too, whatever WhenKeyBusy says.
                o.WhenKeyBusy = byTheRejectPolicy ? BusyKeyMode.Wait : BusyKeyMode.Reject;
                o.OnDuplicate = byTheRejectPolicy ? DuplicatePolicy.Reject : DuplicatePolicy.Join;
            });

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
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("declined") : ValueTask.FromResult("ok"));

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
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        for (var i = 1; i <= 3; i++)
        {
            await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
            time.Advance(TimeSpan.FromSeconds(10));
            await Watchdog.Until(() => store.CountOf(StoreOperation.Renew) == i, $"renewal {i}");
        }

        // 30 s have passed since the claim: without renewals it would have lapsed.
        var claim = await store.TryClaimAsync("test", "k", "someone else", null, TimeSpan.FromSeconds(30), default);
        gate.Open();

        Assert.Equal(ClaimState.Busy, claim.State);
        Assert.Equal("done", (await call.Within()).Value);
    }

    [Fact]
    public async Task LapsedClaim_TheStaleLeadersLateOutcomeIsRefusedAndTheNewerOneKept()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var stale = await store.TryClaimAsync("test", "k", "crashed instance", null, TimeSpan.FromSeconds(5), default);
        time.Advance(TimeSpan.FromSeconds(6));
        var runs = 0;
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"));

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
        await store.TryClaimAsync("test", "k", "crashed instance", null, TimeSpan.FromSeconds(5), default);
        var runs = 0;
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"));

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await Watchdog.Until(() => store.CountOf(StoreOperation.WaitForOutcome) == 1, "the flight waits on the other claim");
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        store.Poke();

        Assert.Equal("run 1", (await call.Within()).Value);
        Assert.Equal(1, runs);
    }

    // Claims are taken before a handler slot, so the lease must be renewed from the grant, not only once the handler
    // runs: a flight that waits for a slot longer than the lease would lose its claim silently, another instance would
    // take the key and run it, then this one would run it again.
    [Fact]
    public async Task EnqueueAsync_ClaimedFlightWaitsForASlotLongerThanTheLease_KeyIsNotRunAgainByAnotherInstance()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var busy = new Gate();
        var runsOfK = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            if (job.Key == "busy")
            {
                await busy.WaitAsync(ct);
                return "busy";
            }

            return $"k run {Interlocked.Increment(ref runsOfK)} by {job.Payload}";
        };
        await using var first = Dedup.OnClaims(
            store,
            time,
            handler,
            o => o.MaxConcurrentHandlers = 1);
        await using var second = Dedup.OnClaims(
            store,
            time,
            handler);

        var holdsTheSlot = first.EnqueueAsync(new Job("busy", "first")).AsTask();
        await busy.Reached.Within();
        var armedForBusy = time.PendingTimers;
        var waitsForSlot = first.EnqueueAsync(new Job("k", "first")).AsTask();
        await Watchdog.Until(() => store.CountOfGranted("k") == 1, "the first instance claimed k and waits for a slot");

        // 31 s pass while k waits for the slot (a saturated instance); both claims renew their leases meanwhile. The
        // clock moves only while k's renewal timer is armed: moved before the claim armed it (the claim is granted a
        // moment before), the renewal would fall after the lease's end, and the test would pass or fail by how fast
        // the thread pool ran the claim's start.
        for (var i = 1; i <= 3; i++)
        {
            await Watchdog.Until(() => time.PendingTimers > armedForBusy, "k's renewal timer is armed");
            time.Advance(TimeSpan.FromSeconds(10));
            await Watchdog.Until(
                () => store.CountOf(StoreOperation.Renew, "busy") >= i && store.CountOf(StoreOperation.Renew, "k") >= i,
                $"renewal {i} of busy and of k");
        }

        time.Advance(TimeSpan.FromSeconds(1));

        // The second instance must see k as busy (and wait for it), not take it over.
        var other = second.EnqueueAsync(new Job("k", "second")).AsTask();
        await Watchdog.Until(() => other.IsCompleted || store.CountOf(StoreOperation.WaitForOutcome) > 0, "the second instance took k or waits on it");
        busy.Open();

        var mine = await waitsForSlot.Within();
        var theirs = await other.Within();
        await holdsTheSlot.Within();

        Assert.Equal(1, runsOfK);
        Assert.Equal(mine.Value, theirs.Value);
    }

    // A handler that ignores its attempt timeout is "left behind": in this process it keeps its slot and no new run of
    // its key starts until it ends. Its claim must be held as long, or another instance takes the key and runs it
    // while the first run is still going.
    [Fact]
    public async Task EnqueueAsync_ClaimedHandlerLeftBehindAfterTimeout_KeepsTheKeyClaimedUntilItEnds()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var stuck = new Gate();
        var runs = new RunTracker();
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, _) =>
        {
            var run = runs.Start();
            try
            {
                if (job.Payload == "first")
                {
                    await stuck.WaitAsync(CancellationToken.None); // e.g. a synchronous SDK call that ignores the token
                }

                return "charged by " + job.Payload;
            }
            finally
            {
                runs.End(run);
            }
        };
        await using var first = Dedup.OnClaims(
            store,
            time,
            handler,
            o => o.AttemptTimeout = TimeSpan.FromSeconds(5));
        await using var second = Dedup.OnClaims(
            store,
            time,
            handler,
            o => o.WhenKeyBusy = BusyKeyMode.Reject);

        var timedOut = first.EnqueueAsync(new Job("charge-42", "first")).AsTask();
        await stuck.Reached.Within();
        await Watchdog.Until(() => time.PendingTimers >= 2, "attempt timeout and renewal armed");
        time.Advance(TimeSpan.FromSeconds(5));
        var failed = await timedOut.Within();
        Assert.IsType<HandlerStuckException>(failed.Exception);

        // The first run is still executing: another instance must not start the same charge.
        var other = await second.EnqueueAsync(new Job("charge-42", "second")).Within();
        stuck.Open();

        // Had the claim been released with the failure, the second instance would have run the key concurrently.
        Assert.Equal(1, runs.MaxConcurrent);
        Assert.Equal(JobStatus.Rejected, other.Status);
    }

    // A store call that times out commonly surfaces as TaskCanceledException (HttpClient, many drivers). A renewal that
    // fails so must not turn a handler that succeeded into a Failed outcome for every caller, with the value neither
    // delivered nor kept (the next arrival would run the job again).
    [Fact]
    public async Task EnqueueAsync_ClaimRenewalTimesOutWithACancellationException_SuccessfulRunStillDeliveredAndKept()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Renew, new TaskCanceledException("The store call timed out."));
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "charged";
            });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(10));
        await Watchdog.Until(() => store.CountOf(StoreOperation.Renew, "k") == 1, "a renewal was tried");
        gate.Open();

        var outcome = await call.Within();
        var again = await dedup.EnqueueAsync(new Job("k", "B")).Within();

        Assert.True(outcome.IsSucceeded, $"{outcome.Status}: {outcome.Exception?.GetType().Name}");
        Assert.Equal("charged", outcome.Value);
        Assert.Equal(JobRole.Replayed, again.Role);
        Assert.Equal(1, runs);
    }
}
