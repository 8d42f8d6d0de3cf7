using System.Collections.Concurrent;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Regressions;

/// <summary>
/// Second concurrency review of the claim path and the per-flight token change. The first four tests fail on the code
/// they were written against; the last two cover ugly paths that had no test and pass.
/// </summary>
public sealed class SecondReviewTests
{
    // Claims are taken before a handler slot, but the lease is renewed only once the handler runs. A flight that waits
    // for a slot longer than the lease loses its claim silently: another instance takes the key and runs it, then this
    // one runs it again (its late outcome is refused by the fencing token, but the work ran twice).
    [Fact]
    public async Task Claim_FlightWaitsForASlotLongerThanTheLease_KeyIsNotRunAgainByAnotherInstance()
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
        await using var first = Dedup.Create(
            handler,
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.ClaimLease = TimeSpan.FromSeconds(30);
                o.MaxConcurrentHandlers = 1;
            },
            time,
            store);
        await using var second = Dedup.Create(
            handler,
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.ClaimLease = TimeSpan.FromSeconds(30);
            },
            time,
            store);

        var holdsTheSlot = first.EnqueueAsync(new Job("busy", "first")).AsTask();
        await busy.Reached.Within();
        var waitsForSlot = first.EnqueueAsync(new Job("k", "first")).AsTask();
        await Watchdog.Until(() => store.CountOfGranted("k") == 1, "the first instance claimed k and waits for a slot");

        // 31 s pass while k waits for the slot (a saturated instance); the busy flight renews its own lease meanwhile.
        for (var i = 1; i <= 3; i++)
        {
            await Watchdog.Until(() => time.PendingTimers > 0, "a renewal timer is armed");
            time.Advance(TimeSpan.FromSeconds(10));
            await Watchdog.Until(() => store.CountOf(StoreOperation.Renew, "busy") >= i, $"busy renewal {i}");
        }

        time.Advance(TimeSpan.FromSeconds(1));

        // The second instance must see k as busy (and wait for it), not take it over.
        var other = second.EnqueueAsync(new Job("k", "second")).AsTask();
        await Watchdog.Until(() => other.IsCompleted || store.CountOf(StoreOperation.WaitForOutcome) > 0, "the second instance took k or waits on it");
        busy.Open();

        var mine = await waitsForSlot.Within();
        var theirs = await other.Within();
        await holdsTheSlot.Within();

        // Current code: the second instance claims the lapsed key and runs it, then the first runs it again.
        Assert.Equal(1, runsOfK);
        Assert.Equal(mine.Value, theirs.Value);
    }

    // A handler that ignores its attempt timeout is "left behind": in this process it keeps its slot and no new run of
    // its key starts until it ends. Its claim, though, is released at once, so another instance takes the key and
    // runs it while the first run is still going.
    [Fact]
    public async Task Claim_HandlerLeftBehindAfterTimeout_KeepsTheKeyClaimedUntilItEnds()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var stuck = new Gate();
        var running = 0;
        var maxRunning = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
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
                Interlocked.Decrement(ref running);
            }
        };
        await using var first = Dedup.Create(
            handler,
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.AttemptTimeout = TimeSpan.FromSeconds(5);
            },
            time,
            store);
        await using var second = Dedup.Create(
            handler,
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.WhenClaimedElsewhere = ClaimedElsewhereMode.Reject;
            },
            time,
            store);

        var timedOut = first.EnqueueAsync(new Job("charge-42", "first")).AsTask();
        await stuck.Reached.Within();
        await Watchdog.Until(() => time.PendingTimers >= 2, "attempt timeout and renewal armed");
        time.Advance(TimeSpan.FromSeconds(5));
        var failed = await timedOut.Within();
        Assert.IsType<HandlerStuckException>(failed.Exception);

        // The first run is still executing: another instance must not start the same charge.
        var other = await second.EnqueueAsync(new Job("charge-42", "second")).Within();
        stuck.Open();

        // Current code: the claim was released with the failure, so the second instance ran the key concurrently.
        Assert.Equal(1, maxRunning);
        Assert.Equal(JobStatus.Rejected, other.Status);
    }

    // A store call that times out commonly surfaces as TaskCanceledException (HttpClient, many drivers). The renewal
    // loop only survives non-cancellation exceptions, so such a renewal faults the loop; ExecuteClaimedAsync then
    // rethrows it from its finally, turning a handler that SUCCEEDED into a Failed outcome for every caller, and the
    // value is neither delivered nor kept (the next arrival runs the job again).
    [Fact]
    public async Task Claim_RenewalTimesOutWithACancellationException_SuccessfulRunStillDeliveredAndKept()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Renew, new TaskCanceledException("The store call timed out."));
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "charged";
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
        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(10));
        await Watchdog.Until(() => store.CountOf(StoreOperation.Renew, "k") == 1, "a renewal was tried");
        gate.Open();

        var outcome = await call.Within();
        var again = await dedup.EnqueueAsync(new Job("k", "B")).Within();

        // Current code: Failed with the TaskCanceledException, claim released, and the job runs a second time.
        Assert.True(outcome.IsSucceeded, $"{outcome.Status}: {outcome.Exception?.GetType().Name}");
        Assert.Equal("charged", outcome.Value);
        Assert.Equal(JobRole.Replayed, again.Role);
        Assert.Equal(1, runs);
    }

    // Rule 5 with a claiming store: Forget(key) between dispatch and the flight's claim. The forgotten flight still
    // claims, runs and COMPLETES its outcome into the store (the claim path never checks IsForgotten, unlike the plain
    // window path), so the next arrival does not start a new flight: it waits on the forgotten flight's claim and
    // replays its stale value.
    [Fact]
    public async Task Claim_ForgetBeforeTheClaimLands_NextArrivalStartsANewFlightAndTheStaleOutcomeIsNotKept()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var firstClaim = store.Hold(StoreOperation.TryClaim, times: 1);
        var gates = new[] { new Gate(), new Gate() };
        gates[1].Open();
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, _) =>
            {
                var run = Interlocked.Increment(ref runs);
                await gates[run - 1].WaitAsync(CancellationToken.None);
                return $"run-{run}";
            },
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            time,
            store);

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await firstClaim.Reached.Within(); // the store round trip is in progress
        dedup.Forget("k"); // the data behind "k" changed: run 1's answer is stale from now on
        firstClaim.Open();
        await gates[0].Reached.Within();

        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => second.IsCompleted || store.CountOf(StoreOperation.WaitForOutcome) > 0 || runs == 2, "the second arrival progressed");
        gates[0].Open();

        Assert.Equal("run-1", (await first.Within()).Value);
        var next = await second.Within();

        // Current code: the second arrival replays the forgotten flight's "run-1".
        Assert.Equal(JobRole.Leader, next.Role);
        Assert.Equal("run-2", next.Value);
        Assert.Equal(2, runs);
    }

    // Passes: covers the new token split. A leader WITH a cancelable token gets a token source of its own, so its wait
    // for a slot is canceled by CancelHandler at shutdown (not by _stopping), and a joiner without a token still gets
    // an outcome at once; the handler never runs.
    [Fact]
    public async Task StopAsync_FlightWithItsOwnTokenSourceWaitingForASlot_IsCanceledAtOnceWithItsJoiners()
    {
        var gate = new Gate();
        var runs = new ConcurrentQueue<string>();
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                runs.Enqueue(job.Key);
                await gate.WaitAsync(ct);
                return job.Key;
            },
            o => o.MaxConcurrentHandlers = 1);

        var running = dedup.EnqueueAsync(new Job("running", "x")).AsTask();
        await gate.Reached.Within();
        using var leaderToken = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("waiting", "leader"), leaderToken.Token).AsTask();
        var joiner = dedup.EnqueueAsync(new Job("waiting", "joiner")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the joiner attached to the waiting flight");

        var stopping = dedup.StopAsync();
        Assert.Equal(JobStatus.Canceled, (await leader.Within()).Status);
        Assert.Equal(JobStatus.Canceled, (await joiner.Within()).Status);
        Assert.False(stopping.IsCompleted); // the running handler still has its shutdown timeout
        gate.Open();
        await stopping.Within();

        Assert.Equal("running", (await running.Within()).Value);
        Assert.Equal(["running"], runs);
    }

    // Passes: a flight that holds a claim while it waits for a slot, canceled by shutdown, releases the claim so that
    // another instance can take the key at once instead of waiting out the lease.
    [Fact]
    public async Task StopAsync_FlightHoldingAClaimWhileWaitingForASlot_ReleasesTheClaim()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return job.Key;
            },
            o =>
            {
                o.CompletedRetention = TimeSpan.FromHours(1);
                o.MaxConcurrentHandlers = 1;
            },
            time,
            store);

        var running = dedup.EnqueueAsync(new Job("running", "x")).AsTask();
        await gate.Reached.Within();
        var waiting = dedup.EnqueueAsync(new Job("k", "x")).AsTask();
        await Watchdog.Until(() => store.CountOfGranted("k") == 1, "k is claimed and waits for a slot");

        var stopping = dedup.StopAsync();
        Assert.Equal(JobStatus.Canceled, (await waiting.Within()).Status);
        await Watchdog.Until(() => store.CountOf(StoreOperation.Release) == 1, "the unused claim is released");
        var takeover = await store.TryClaimAsync("test", "k", "another instance", TimeSpan.FromSeconds(30), default);
        gate.Open();
        await stopping.Within();

        Assert.Equal(ClaimState.Claimed, takeover.State);
        Assert.Equal("running", (await running.Within()).Value);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
