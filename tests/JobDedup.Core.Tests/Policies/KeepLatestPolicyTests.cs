using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class KeepLatestPolicyTests
{
    [Fact]
    public async Task KeepLatest_BurstDuringARun_GivesExactlyOneMoreRunWithTheLatestPayload()
    {
        var scenario = new PayloadRuns("p0");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest);

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var burst = Enumerable.Range(1, 20).Select(i => dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 19, "the burst joined one pending flight");
        Assert.Equal(1, scenario.Tracker.Runs);
        scenario.FirstRun.Open();

        var first = await running.Within();
        var pending = await Task.WhenAll(burst).Within();

        Assert.Equal("ran-p0", first.Value);
        Assert.All(pending, o => Assert.Equal("ran-p20", o.Value));
        Assert.Equal(JobRole.Leader, pending[0].Role);
        Assert.All(pending.Skip(1), o => Assert.Equal(JobRole.Joined, o.Role));
        Assert.Equal(["p0", "p20"], scenario.Ran);
        Assert.Equal(2, scenario.Tracker.Runs);
        Assert.Equal(1, scenario.Tracker.MaxConcurrent);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], scenario.Tracker.Events);
    }

    [Fact]
    public async Task KeepLatest_WithADedupeWindow_ThePendingRunIsNotAnsweredByTheRunBeforeIt()
    {
        var scenario = new PayloadRuns("p0");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest, o => o.DedupeWindow = TimeSpan.FromHours(1));

        var (running, pending, joined) = await RunWithPendingFlightAsync(dedup, scenario);
        scenario.FirstRun.Open();

        Assert.Equal("ran-p0", (await running.Within()).Value);
        var second = await pending.Within();
        Assert.Equal("ran-p2", second.Value);
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal(JobRole.Joined, (await joined.Within()).Role);

        // After both runs the window answers with the latest run's outcome.
        var repeat = await dedup.EnqueueAsync(new Job("k", "p3")).Within();
        Assert.Equal(JobRole.Replayed, repeat.Role);
        Assert.Equal("ran-p2", repeat.Value);
        Assert.Equal(["p0", "p2"], scenario.Ran);
    }

    [Fact]
    public async Task KeepLatest_OnAClaimingStore_ThePendingRunClaimsTheKeyAgainInsteadOfReplayingTheRunBefore()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var scenario = new PayloadRuns("p0");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest, o =>
        {
            o.DedupeWindow = TimeSpan.FromHours(1);
            o.ClaimLease = TimeSpan.FromSeconds(30);
        }, time, store);

        var (running, pending, joined) = await RunWithPendingFlightAsync(dedup, scenario);
        scenario.FirstRun.Open();

        Assert.Equal("ran-p0", (await running.Within()).Value);
        var second = await pending.Within();
        Assert.Equal("ran-p2", second.Value);
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal("ran-p2", (await joined.Within()).Value);
        Assert.Equal(2, store.CountOfGranted("k"));
        Assert.Equal(["p0", "p2"], scenario.Ran);

        var repeat = await dedup.EnqueueAsync(new Job("k", "p3")).Within();
        Assert.Equal(JobRole.Replayed, repeat.Role);
        Assert.Equal("ran-p2", repeat.Value);
    }

    [Fact]
    public async Task KeepLatest_ArrivalWhileThePendingRunRuns_StartsTheNextPendingRun()
    {
        var scenario = new PayloadRuns("p0", "p1");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest);

        var a = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var b = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        scenario.FirstRun.Open();
        await scenario.SecondRun.Reached.Within();
        var c = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        var d = dedup.EnqueueAsync(new Job("k", "p3")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the fourth caller joined the new pending flight");
        Assert.Equal(2, scenario.Tracker.Runs);
        scenario.SecondRun.Open();

        Assert.Equal("ran-p0", (await a.Within()).Value);
        Assert.Equal("ran-p1", (await b.Within()).Value);
        Assert.Equal("ran-p3", (await c.Within()).Value);
        Assert.Equal("ran-p3", (await d.Within()).Value);
        Assert.Equal(["p0", "p1", "p3"], scenario.Ran);
        Assert.Equal(1, scenario.Tracker.MaxConcurrent);
    }

    [Fact]
    public async Task KeepLatest_FlightWaitingForASlot_TakesTheLatestPayloadWithoutASecondRun()
    {
        var scenario = new PayloadRuns("o");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest, o => o.MaxConcurrentHandlers = 1);

        var other = dedup.EnqueueAsync(new Job("other", "o")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var calls = Enumerable.Range(1, 3).Select(i => dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined the flight waiting for the slot");
        scenario.FirstRun.Open();

        var outcomes = await Task.WhenAll(calls).Within();
        await other.Within();
        Assert.All(outcomes, o => Assert.Equal("ran-p3", o.Value));
        Assert.Equal(["o", "p3"], scenario.Ran);
    }

    [Fact]
    public async Task KeepLatest_PendingCallersAllLeave_TheRunGoesOnAndTheNextArrivalStillGetsARunOfItsOwn()
    {
        var scenario = new PayloadRuns("p0");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest);

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        using var leaving = new CancellationTokenSource();
        var b = dedup.EnqueueAsync(new Job("k", "p1"), leaving.Token).AsTask();
        var c = dedup.EnqueueAsync(new Job("k", "p2"), leaving.Token).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await b.Within()).Status);
        Assert.Equal(JobStatus.Canceled, (await c.Within()).Status);

        // The pending flight is abandoned; a trigger still arriving during the run is owed a run after it.
        var d = dedup.EnqueueAsync(new Job("k", "p3")).AsTask();
        var e = dedup.EnqueueAsync(new Job("k", "p4")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "the fifth caller joined the new pending flight");
        Assert.False(running.IsCompleted);
        scenario.FirstRun.Open();

        Assert.Equal("ran-p0", (await running.Within()).Value);
        Assert.Equal("ran-p4", (await d.Within()).Value);
        Assert.Equal("ran-p4", (await e.Within()).Value);
        Assert.Equal(["p0", "p4"], scenario.Ran);
        Assert.Equal(1, scenario.Tracker.MaxConcurrent);
    }

    [Fact]
    public async Task KeepLatest_StopWithAPendingFlight_PendingCallersGetCanceledAndTheRunFinishes()
    {
        var scenario = new PayloadRuns("p0");
        var dedup = scenario.Create(DuplicatePolicy.KeepLatest, o => o.ShutdownTimeout = TimeSpan.FromMinutes(1));

        var (running, pending, joined) = await RunWithPendingFlightAsync(dedup, scenario);
        var stopping = dedup.StopAsync();

        Assert.Equal(JobStatus.Canceled, (await pending.Within()).Status);
        Assert.IsAssignableFrom<OperationCanceledException>((await joined.Within()).Exception);
        Assert.False(stopping.IsCompleted);
        scenario.FirstRun.Open();
        await stopping.Within();

        Assert.Equal("ran-p0", (await running.Within()).Value);
        Assert.Equal(["p0"], scenario.Ran);
    }

    [Fact]
    public async Task KeepLatest_ForgetWithAPendingFlight_TheArrivalAfterForgetRunsAfterThePendingRunAndIsNotReplayed()
    {
        var scenario = new PayloadRuns("p0");
        await using var dedup = scenario.Create(DuplicatePolicy.KeepLatest, o => o.DedupeWindow = TimeSpan.FromHours(1));

        var (running, pending, joined) = await RunWithPendingFlightAsync(dedup, scenario);
        await dedup.ForgetAsync("k").AsTask().Within();
        var afterForget = dedup.EnqueueAsync(new Job("k", "p3")).AsTask();
        scenario.FirstRun.Open();

        Assert.Equal("ran-p0", (await running.Within()).Value);
        Assert.Equal("ran-p2", (await pending.Within()).Value);
        Assert.Equal("ran-p2", (await joined.Within()).Value);
        var fresh = await afterForget.Within();
        Assert.Equal("ran-p3", fresh.Value);
        Assert.Equal(JobRole.Leader, fresh.Role);
        Assert.Equal(["p0", "p2", "p3"], scenario.Ran);
        Assert.Equal(1, scenario.Tracker.MaxConcurrent);
    }

    /// <summary>
    /// Starts the run of <c>p0</c> (held at its gate), then the pending flight behind it with <c>p1</c>, which
    /// <c>p2</c> joins; returns once the dispatcher has placed all three.
    /// </summary>
    private static async Task<(Task<JobOutcome<string>> Running, Task<JobOutcome<string>> Pending, Task<JobOutcome<string>> Joined)> RunWithPendingFlightAsync(
        JobDeduplicator<Job, string> dedup,
        PayloadRuns scenario)
    {
        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var pending = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        var joined = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
        return (running, pending, joined);
    }
}
