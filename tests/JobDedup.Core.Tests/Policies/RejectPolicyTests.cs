using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class RejectPolicyTests
{
    [Fact]
    public async Task Reject_DuplicateWhileTheHandlerRuns_EndsRejectedNamingTheKeyAndThePolicy()
    {
        var scenario = new PayloadRuns("a");
        await using var dedup = scenario.Create(DuplicatePolicy.Reject);

        var first = dedup.EnqueueAsync(new Job("order-7", "a")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var duplicate = await dedup.EnqueueAsync(new Job("order-7", "b")).Within();
        scenario.FirstRun.Open();

        Assert.Equal(JobStatus.Rejected, duplicate.Status);
        var rejected = Assert.IsType<JobRejectedException>(duplicate.Exception);
        Assert.Contains("'order-7'", rejected.Message);
        Assert.Contains("Reject", rejected.Message);
        Assert.Equal("ran-a", (await first.Within()).Value);
        Assert.Equal(["a"], scenario.Ran);
        Assert.Equal(0, dedup.GetStats().Hits);
    }

    [Fact]
    public async Task Reject_DuplicateWhileTheFlightWaitsForASlot_IsRejectedAndTheFlightRunsItsOwnJob()
    {
        var scenario = new PayloadRuns("s");
        await using var dedup = scenario.Create(DuplicatePolicy.Reject, o => o.MaxConcurrentHandlers = 1);

        var slow = dedup.EnqueueAsync(new Job("slow", "s")).AsTask();
        await scenario.FirstRun.Reached.Within();
        var waiting = dedup.EnqueueAsync(new Job("k", "first")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 2, "the second flight waits for the slot");
        var duplicate = await dedup.EnqueueAsync(new Job("k", "second")).Within();
        scenario.FirstRun.Open();

        Assert.Equal(JobStatus.Rejected, duplicate.Status);
        Assert.Equal("ran-first", (await waiting.Within()).Value);
        await slow.Within();
        Assert.Equal(["s", "first"], scenario.Ran);
    }

    [Fact]
    public async Task Reject_RepeatAfterCompletionWithADedupeWindow_IsReplayedNotRejected()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Reject;
                o.DedupeWindow = TimeSpan.FromHours(1);
            });

        var first = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var repeat = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal("run-1", first.Value);
        Assert.Equal(JobStatus.Succeeded, repeat.Status);
        Assert.Equal(JobRole.Replayed, repeat.Role);
        Assert.Equal("run-1", repeat.Value);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task Reject_RepeatAfterCompletionWithoutAWindow_RunsAgain()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"),
            o => o.OnDuplicate = DuplicatePolicy.Reject);

        var first = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var repeat = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal("run-1", first.Value);
        Assert.Equal("run-2", repeat.Value);
        Assert.Equal(JobRole.Leader, repeat.Role);
        Assert.Equal(2, runs);
    }
}
