using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class ForgetTests
{
    [Fact]
    public async Task Forget_DuringAFlight_NextCallerStartsASecondFlightThatRunsAfterTheFirstAndIsNotRemovedByIt()
    {
        var gates = new[] { new Gate(), new Gate() };
        var runs = 0;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            var run = Interlocked.Increment(ref runs);
            await gates[run - 1].WaitAsync(ct);
            return $"run-{run}";
        });

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await gates[0].Reached.Within();
        dedup.Forget("k");
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        var third = dedup.EnqueueAsync(new Job("k", "3")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "third caller joined the second flight");

        // The second flight owns the key from now on, but its handler waits for the forgotten one to end.
        Assert.Equal(1, Volatile.Read(ref runs));
        Assert.False(second.IsCompleted);

        gates[0].Open();
        Assert.Equal("run-1", (await first.Within()).Value);
        await gates[1].Reached.Within();

        // The first flight finished after Forget: the second must still be in flight and take the next caller.
        Assert.Equal(1, dedup.GetStats().Active);
        var fourth = dedup.EnqueueAsync(new Job("k", "4")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "fourth caller joined the second flight");
        gates[1].Open();

        Assert.Equal("run-2", (await second.Within()).Value);
        Assert.Equal("run-2", (await third.Within()).Value);
        Assert.Equal("run-2", (await fourth.Within()).Value);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task Forget_UnknownKey_LaterCoalescingStillWorks()
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "v";
        });

        dedup.Forget("never-seen");
        var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");
        gate.Open();
        await Task.WhenAll(calls).Within();

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task Forget_RetainedKey_NextCallerRunsAgain()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(1));

        await dedup.EnqueueAsync(new Job("k", "1")).Within();
        Assert.Equal(JobRole.Replayed, (await dedup.EnqueueAsync(new Job("k", "2")).Within()).Role);
        dedup.Forget("k");
        var after = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        Assert.Equal("run-2", after.Value);
        Assert.Equal(JobRole.Leader, after.Role);
    }

    [Fact]
    public async Task ForgetAll_ClearsFlightsAndWindow()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(1));

        await dedup.EnqueueAsync(new Job("a", "1")).Within();
        await dedup.EnqueueAsync(new Job("b", "1")).Within();
        dedup.ForgetAll();

        Assert.Equal(JobRole.Leader, (await dedup.EnqueueAsync(new Job("a", "2")).Within()).Role);
        Assert.Equal(JobRole.Leader, (await dedup.EnqueueAsync(new Job("b", "2")).Within()).Role);
        Assert.Equal(4, runs);
    }

    [Fact]
    public async Task ResetStats_ZeroesTheCounters()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));
        await dedup.EnqueueAsync(new Job("k", "1")).Within();
        Assert.Equal(1, dedup.GetStats().Misses);

        dedup.ResetStats();

        Assert.Equal(new DeduplicationStats(0, 0, 0, 0, 0, 0, 0), dedup.GetStats());
    }
}
