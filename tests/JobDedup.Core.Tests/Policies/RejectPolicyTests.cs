using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class RejectPolicyTests
{
    [Fact]
    public async Task Reject_DuplicateWhileTheHandlerRuns_EndsRejectedNamingTheKeyAndThePolicy()
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "ran-" + job.Payload;
            },
            o => o.OnDuplicate = DuplicatePolicy.Reject);

        var first = dedup.EnqueueAsync(new Job("order-7", "a")).AsTask();
        await gate.Reached.Within();
        var duplicate = await dedup.EnqueueAsync(new Job("order-7", "b")).Within();
        gate.Open();

        Assert.Equal(JobStatus.Rejected, duplicate.Status);
        var rejected = Assert.IsType<JobRejectedException>(duplicate.Exception);
        Assert.Contains("'order-7'", rejected.Message);
        Assert.Contains("Reject", rejected.Message);
        Assert.Equal("ran-a", (await first.Within()).Value);
        Assert.Equal(1, runs);
        Assert.Equal(0, dedup.GetStats().Hits);
    }

    [Fact]
    public async Task Reject_DuplicateWhileTheFlightWaitsForASlot_IsRejectedAndTheFlightRunsItsOwnJob()
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

                if (job.Key == "slow")
                {
                    await gate.WaitAsync(ct);
                }

                return "ran-" + job.Payload;
            },
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Reject;
                o.MaxConcurrentHandlers = 1;
            });

        var slow = dedup.EnqueueAsync(new Job("slow", "s")).AsTask();
        await gate.Reached.Within();
        var waiting = dedup.EnqueueAsync(new Job("k", "first")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 2, "the second flight waits for the slot");
        var duplicate = await dedup.EnqueueAsync(new Job("k", "second")).Within();
        gate.Open();

        Assert.Equal(JobStatus.Rejected, duplicate.Status);
        Assert.Equal("ran-first", (await waiting.Within()).Value);
        await slow.Within();
        Assert.Equal(["s", "first"], ran);
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

    [Fact]
    public async Task Reject_KeyBusyOnAnotherInstance_IsRejectedThoughWhenKeyBusyIsWait()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var first = Dedup.OnClaims(
            store,
            time,
            async (_, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            });
        await using var second = Dedup.OnClaims(
            store,
            time,
            (_, _, _) => ValueTask.FromResult("must not run"),
            o =>
            {
                o.OnDuplicate = DuplicatePolicy.Reject;
                o.WhenKeyBusy = BusyKeyMode.Wait;
            });

        var a = first.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var rejected = await second.EnqueueAsync(new Job("k", "B")).Within();
        gate.Open();

        Assert.Equal(JobStatus.Rejected, rejected.Status);
        Assert.Contains("another instance", rejected.Exception!.Message);
        Assert.Equal("done", (await a.Within()).Value);
    }
}
