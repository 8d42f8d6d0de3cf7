using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class ReplacePolicyTests
{
    [Fact]
    public async Task Replace_FlightWaitingForASlot_RunsTheNewestPayloadAndEveryCallerGetsThatOutcome()
    {
        var gate = new Gate();
        var ran = new List<string>();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                lock (ran)
                {
                    ran.Add(job.Payload);
                }

                if (job.Key == "other")
                {
                    await gate.WaitAsync(ct);
                }

                return "ran-" + job.Payload;
            },
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Replace;
                o.MaxConcurrentHandlers = 1;
            });

        var other = dedup.EnqueueAsync(new Job("other", "o")).AsTask();
        await gate.Reached.Within();
        var calls = new List<Task<JobOutcome<string>>>();
        for (var i = 1; i <= 3; i++)
        {
            calls.Add(dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask());
        }

        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined the flight waiting for the slot");
        Assert.Equal(["o"], ran);
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();
        await other.Within();

        Assert.Equal(["o", "p3"], ran);
        Assert.All(outcomes, o => Assert.Equal("ran-p3", o.Value));
        Assert.Equal(JobRole.Leader, outcomes[0].Role);
        Assert.All(outcomes.Skip(1), o => Assert.Equal(JobRole.Joined, o.Role));
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
        var gate = new Gate();
        var ran = new List<(string Payload, bool LeaderChanged)>();
        await using var dedup = Dedup.Create(
            async (job, ctx, ct) =>
            {
                lock (ran)
                {
                    ran.Add((job.Payload, ctx.LeaderChanged));
                }

                if (job.Key == "other")
                {
                    await gate.WaitAsync(ct);
                }

                return "ran-" + job.Payload;
            },
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Replace;
                o.MaxConcurrentHandlers = 1;
            });

        var other = dedup.EnqueueAsync(new Job("other", "o")).AsTask();
        await gate.Reached.Within();
        using var leaving = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("k", "p1"), leaving.Token).AsTask();
        var second = dedup.EnqueueAsync(new Job("k", "p2")).AsTask();
        var third = dedup.EnqueueAsync(new Job("k", "p3")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await leader.Within()).Status);
        gate.Open();

        var secondOutcome = await second.Within();
        Assert.Equal("ran-p3", secondOutcome.Value);
        Assert.Equal(JobRole.Leader, secondOutcome.Role); // the oldest caller still waiting was elected
        Assert.Equal("ran-p3", (await third.Within()).Value);
        await other.Within();
        Assert.Equal([("o", false), ("p3", true)], ran);
    }
}
