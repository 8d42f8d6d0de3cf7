using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>
/// Forget is ordered with what comes after it: a flight that was forgotten never writes into the dedupe window, and
/// an arrival after Forget returned never sees the forgotten outcome, whatever the store still has in progress.
/// </summary>
public sealed class ForgetOrderingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forget_WhileTheFinishedFlightIsStillSaving_LateDuplicateReplaysTheNewerRun(bool claiming)
    {
        var store = new ScriptableOutcomeStore<string>();
        var write = claiming ? StoreOperation.Complete : StoreOperation.Save;
        var oldSave = store.Hold(write, "k", times: 1);
        var runs = new RunTracker();
        await using var dedup = TrackedRuns.WithWindow(runs, claiming ? store : store.AsPlainStore());

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await oldSave.Reached.Within(); // run 1 finished; its outcome is on its way to the store
        dedup.Forget("k");

        var second = await dedup.EnqueueAsync(new Job("k", "2")).Within();
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal("run-2", second.Value);

        oldSave.Open(); // the forgotten flight's write lands only now
        Assert.Equal("run-1", (await first.Within()).Value);

        var late = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        // The window must hold run 2: the forgotten flight's late write may never replace it.
        Assert.Equal(2, runs.Runs);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.Equal("run-2", late.Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forget_WhileTheStoreIsStillRemovingTheOutcome_NextArrivalNeverReplaysTheForgottenValue(bool claiming)
    {
        var store = new ScriptableOutcomeStore<string>();
        var runs = new RunTracker();
        await using var dedup = TrackedRuns.WithWindow(runs, claiming ? store : store.AsPlainStore());
        Assert.Equal("run-1", (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Value);
        var removal = store.Hold(StoreOperation.Remove, "k");
        var lookup = store.Hold(claiming ? StoreOperation.TryClaim : StoreOperation.TryGet, "k", times: 1);

        dedup.Forget("k");
        var next = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await dedup.AfterTheDispatcherTookEverythingBeforeAsync();

        // The store still holds run 1. If the arrival looked the key up meanwhile, that answer must not reach it.
        if (lookup.Reached.IsCompleted)
        {
            lookup.Open();
            await lookup.Finished.Within();
        }

        lookup.Open();
        if (next.IsCompleted)
        {
            AssertNotTheForgottenValue(await next);
        }

        await removal.Reached.Within();
        removal.Open();
        var outcome = await next.Within();

        AssertNotTheForgottenValue(outcome);
        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("run-2", outcome.Value);
        Assert.Equal(2, runs.Runs);
    }

    private static void AssertNotTheForgottenValue(JobOutcome<string> outcome) =>
        Assert.False(
            outcome.Role == JobRole.Replayed && outcome.Value == "run-1",
            $"The arrival after Forget replayed the forgotten outcome: {outcome} = {outcome.Value}.");

    // A flight that was forgotten must not write its (older) outcome into the window, and the newer flight of the
    // key runs only after it.
    [Fact]
    public async Task Forget_DuringAFlight_WindowKeepsOnlyTheNewerFlightsOutcome()
    {
        var gates = new[] { new Gate(), new Gate() };
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, _) =>
            {
                var run = Interlocked.Increment(ref runs);
                await gates[run - 1].WaitAsync(CancellationToken.None);
                return $"run-{run}";
            },
            o => o.DedupeWindow = TimeSpan.FromHours(1));

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await gates[0].Reached.Within();
        dedup.Forget("k"); // e.g. the data behind "k" changed: the answer of run 1 is stale from now on
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();

        // The new flight's handler starts only once the forgotten one ended, and the forgotten one must not save.
        gates[0].Open();
        Assert.Equal("run-1", (await first.Within()).Value);
        await gates[1].Reached.Within();
        gates[1].Open();
        Assert.Equal("run-2", (await second.Within()).Value);

        var late = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        // Had the forgotten flight kept "run-1", or written it over "run-2", the late duplicate would replay it.
        Assert.Equal(2, runs);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.Equal("run-2", late.Value);
    }

    // With a claiming store, Forget(key) between dispatch and the flight's claim: the forgotten flight still claims
    // and runs, but it must neither complete its outcome into the store nor make the next arrival replay its stale
    // value; the next arrival runs after it, never beside it.
    [Fact]
    public async Task Forget_BeforeTheFlightsClaimLands_NextArrivalStartsANewFlightAndTheStaleOutcomeIsNotKept()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var firstClaim = store.Hold(StoreOperation.TryClaim, times: 1);
        var gates = new[] { new Gate(), new Gate() };
        gates[1].Open();
        var runs = 0;
        var running = 0;
        var overlapped = false;
        await using var dedup = Dedup.Create(
            async (job, _, _) =>
            {
                var run = Interlocked.Increment(ref runs);
                overlapped |= Interlocked.Increment(ref running) > 1;
                await gates[run - 1].WaitAsync(CancellationToken.None);
                Interlocked.Decrement(ref running);
                return $"run-{run}";
            },
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            time,
            store);

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await firstClaim.Reached.Within(); // the store round trip is in progress
        dedup.Forget("k"); // the data behind "k" changed: run 1's answer is stale from now on
        firstClaim.Open();
        await gates[0].Reached.Within();

        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Queued == 0, "the dispatcher took the second arrival");

        // The second arrival owns the key now, but its handler waits for the forgotten one to end.
        Assert.False(second.IsCompleted);
        gates[0].Open();

        Assert.Equal("run-1", (await first.Within()).Value);
        var next = await second.Within();

        Assert.Equal(JobRole.Leader, next.Role);
        Assert.Equal("run-2", next.Value);
        Assert.Equal(2, runs);
        Assert.False(overlapped, "The second run started while the forgotten one was still running.");
    }
}
