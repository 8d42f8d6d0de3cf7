using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class KeepLatestPolicyTests
{
    [Fact]
    public async Task KeepLatest_BurstDuringARun_GivesExactlyOneMoreRunWithTheLatestPayload()
    {
        var scenario = new GatedRuns();
        await using var dedup = scenario.Create();

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
        var scenario = new GatedRuns();
        await using var dedup = scenario.Create(o => o.DedupeWindow = TimeSpan.FromHours(1));

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var pending = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        var joined = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
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
        var scenario = new GatedRuns();
        await using var dedup = scenario.Create(o =>
        {
            o.DedupeWindow = TimeSpan.FromHours(1);
            o.ClaimLease = TimeSpan.FromSeconds(30);
        }, time, store);

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var pending = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        var joined = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
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
        var scenario = new GatedRuns(gated: ["p0", "p1"]);
        await using var dedup = scenario.Create();

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
        var scenario = new GatedRuns(gated: ["o"]);
        await using var dedup = scenario.Create(o => o.MaxConcurrentHandlers = 1);

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
        var scenario = new GatedRuns();
        await using var dedup = scenario.Create();

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
        var scenario = new GatedRuns();
        var dedup = scenario.Create(o => o.ShutdownTimeout = TimeSpan.FromMinutes(1));

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var pending = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        var joined = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
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
        var scenario = new GatedRuns();
        await using var dedup = scenario.Create(o => o.DedupeWindow = TimeSpan.FromHours(1));

        var running = dedup.EnqueueAsync(new Job("k", "p0")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var pending = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        var joined = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the third caller joined the pending flight");
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

    /// <summary>A KeepLatest deduplicator whose runs of the gated payloads wait: the first at one gate, the second at another.</summary>
    private sealed class GatedRuns(string[]? gated = null)
    {
        private readonly string[] _gated = gated ?? ["p0"];
        private readonly List<string> _ran = [];

        public Gate FirstRun { get; } = new();

        public Gate SecondRun { get; } = new();

        public RunTracker Tracker { get; } = new();

        public IReadOnlyList<string> Ran
        {
            get
            {
                lock (_ran)
                {
                    return [.. _ran];
                }
            }
        }

        public JobDeduplicator<Job, string> Create(
            Action<JobDedupOptions<Job>>? configure = null,
            TimeProvider? time = null,
            IOutcomeStore<string>? store = null) =>
            Dedup.Create(
                async (job, _, ct) =>
                {
                    var run = Tracker.Start();
                    try
                    {
                        lock (_ran)
                        {
                            _ran.Add(job.Payload);
                        }

                        var index = Array.IndexOf(_gated, job.Payload);
                        if (index == 0)
                        {
                            await FirstRun.WaitAsync(ct);
                        }
                        else if (index == 1)
                        {
                            await SecondRun.WaitAsync(ct);
                        }

                        return "ran-" + job.Payload;
                    }
                    finally
                    {
                        Tracker.End(run);
                    }
                },
                o =>
                {
                    o.OnDuplicate = DuplicatePolicy.KeepLatest;
                    configure?.Invoke(o);
                },
                time,
                store);
    }
}
