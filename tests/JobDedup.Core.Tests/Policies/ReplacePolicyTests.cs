using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class ReplacePolicyTests
{
    [Fact]
    public async Task Replace_FlightWaitingForASlot_RunsTheNewestPayloadAndEveryCallerGetsThatOutcome()
    {
        var scenario = new PayloadRuns("o");
        await using var dedup = scenario.Create(DuplicatePolicy.Replace, o => o.MaxConcurrentHandlers = 1);

        var other = dedup.EnqueueAsync(new Job("other", "o")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var calls = Enumerable.Range(1, 3).Select(i => dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined the flight waiting for the slot");
        Assert.Equal(["o"], scenario.Ran);
        scenario.FirstRun.Open();
        var outcomes = await Task.WhenAll(calls).Within();
        await other.Within();

        Assert.Equal(["o", "p3"], scenario.Ran);
        Assert.All(outcomes, o => Assert.Equal("ran-p3", o.Value));
        Assert.Equal(JobRole.Leader, outcomes[0].Role);
        Assert.All(outcomes.Skip(1), o => Assert.Equal(JobRole.Joined, o.Role));
    }

    [Fact]
    public async Task Replace_FlightWaitingForTheKeysAbandonedRunToEnd_RunsTheNewestPayloadAfterIt()
    {
        var scenario = new PayloadRuns("p0") { WatchesToken = false };
        await using var dedup = scenario.Create(DuplicatePolicy.Replace);

        // The only caller of p0 leaves; its handler does not watch the token, so the key stays held until it ends.
        using var leaving = new CancellationTokenSource();
        var abandoned = dedup.EnqueueAsync(new Job("k", "p0"), leaving.Token).AsTask();
        await scenario.FirstRun.Reached.Within();
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await abandoned.Within()).Status);
        var calls = Enumerable.Range(1, 3).Select(i => dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined the flight waiting for the key");
        Assert.Equal(["p0"], scenario.Ran);
        scenario.FirstRun.Open();

        var outcomes = await Task.WhenAll(calls).Within();
        Assert.All(outcomes, o => Assert.Equal("ran-p3", o.Value));
        Assert.Equal(["p0", "p3"], scenario.Ran);
        Assert.Equal(1, scenario.Tracker.MaxConcurrent);
    }

    [Fact]
    public async Task Replace_ArrivalAfterTheHandlerStarted_JoinsAndTheRunKeepsItsPayload()
    {
        var gate = new Gate();
        var ran = new List<string>();
        await using var dedup = Dedup.Create(
            async (job, ctx, ct) =>
            {
                lock (ran)
                {
                    ran.Add(job.Payload);
                }

                if (ctx.Attempt == 1)
                {
                    await gate.WaitAsync(ct);
                    throw new InvalidOperationException("the first attempt fails; the retry must run the same payload");
                }

                return "ran-" + job.Payload;
            },
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Replace;
                o.MaxRetryAttempts = 1;
            });

        var first = dedup.EnqueueAsync(new Job("k", "p1")).AsTask();
        await gate.Reached.Within();
        var late = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the late caller joined");
        gate.Open();

        Assert.Equal("ran-p1", (await first.Within()).Value);
        var joined = await late.Within();
        Assert.Equal("ran-p1", joined.Value);
        Assert.Equal(JobRole.Joined, joined.Role);
        Assert.Equal(["p1", "p1"], ran);
    }

    [Fact]
    public async Task Replace_LeaderLeavesBeforeTheStart_TheRunUsesTheLatestReplacedJobNotTheNewLeaders()
    {
        var scenario = new PayloadRuns("o");
        await using var dedup = scenario.Create(DuplicatePolicy.Replace, o => o.MaxConcurrentHandlers = 1);

        var other = dedup.EnqueueAsync(new Job("other", "o")).AsTask();
        await scenario.FirstRun.Reached.Within();
        using var leaving = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("k", "p1"), leaving.Token).AsTask();
        var second = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        var third = dedup.EnqueueAsync(new Job("k", "p3")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await leader.Within()).Status);
        scenario.FirstRun.Open();

        var secondOutcome = await second.Within();
        Assert.Equal("ran-p3", secondOutcome.Value);
        Assert.Equal(JobRole.Leader, secondOutcome.Role); // the oldest caller still waiting was elected
        Assert.Equal("ran-p3", (await third.Within()).Value);
        await other.Within();
        Assert.Equal([("o", false), ("p3", true)], scenario.Runs);
    }
}
