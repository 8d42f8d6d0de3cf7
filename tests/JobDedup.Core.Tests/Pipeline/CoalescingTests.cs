using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class CoalescingTests
{
    [Fact]
    public async Task EnqueueAsync_HundredCallersOnOneKey_RunsHandlerOnceAndSharesTheValue()
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "value-of-" + job.Payload;
        });

        var calls = Enumerable.Range(0, 100)
            .Select(i => dedup.EnqueueAsync(new Job("order-1", $"p{i}")).AsTask())
            .ToArray();
        await gate.Reached.Within();
        await Watchdog.Until(() => dedup.GetStats().Hits == 99, "99 callers joined the flight");
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();

        Assert.Equal(1, runs);
        Assert.All(outcomes, o => Assert.Equal(JobStatus.Succeeded, o.Status));
        Assert.Single(outcomes.Select(o => o.Value).Distinct());
        Assert.Equal("value-of-p0", outcomes[0].Value);
        Assert.Equal(1, outcomes.Count(o => o.Role == JobRole.Leader));
        Assert.Equal(99, outcomes.Count(o => o.Role == JobRole.Joined));
        Assert.All(outcomes, o => Assert.Equal("order-1", o.Key));
        Assert.All(outcomes, o => Assert.Equal(1, o.Attempts));

        var stats = dedup.GetStats();
        Assert.Equal(99, stats.Hits);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(0, stats.Active);
        Assert.Equal(0.99, stats.HitRate, 3);
    }

    [Fact]
    public async Task EnqueueAsync_DifferentKeys_RunInParallelFlights()
    {
        var gate = new Gate();
        var running = 0;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            Interlocked.Increment(ref running);
            await gate.WaitAsync(ct);
            return job.Key;
        });

        var calls = Enumerable.Range(0, 5).Select(i => dedup.EnqueueAsync(new Job($"k{i}", "x")).AsTask()).ToArray();
        await Watchdog.Until(() => Volatile.Read(ref running) == 5, "five handlers running at once");
        Assert.Equal(5, dedup.GetStats().Active);
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();

        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], outcomes.Select(o => o.Value));
        Assert.All(outcomes, o => Assert.Equal(JobRole.Leader, o.Role));
    }

    [Fact]
    public async Task EnqueueAsync_MaxConcurrentHandlersReached_FlightWaitingForSlotStillAcceptsJoiners()
    {
        var gate = new Gate();
        var runs = new List<string>();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                lock (runs)
                {
                    runs.Add(job.Key);
                }

                if (job.Key == "slow")
                {
                    await gate.WaitAsync(ct);
                }

                return job.Key;
            },
            o => o.MaxConcurrentHandlers = 1);

        var slow = dedup.EnqueueAsync(new Job("slow", "a")).AsTask();
        await gate.Reached.Within();
        var waiting = Enumerable.Range(0, 10).Select(_ => dedup.EnqueueAsync(new Job("queued", "b")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 9, "nine callers joined the flight waiting for a slot");
        Assert.Equal(["slow"], runs);

        gate.Open();
        var outcomes = await Task.WhenAll(waiting).Within();
        await slow.Within();

        Assert.Equal(["slow", "queued"], runs);
        Assert.All(outcomes, o => Assert.Equal("queued", o.Value));
    }

    [Fact]
    public async Task EnqueueAsync_AfterFlightCompletes_StartsANewFlight()
    {
        var runs = 0;
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"));

        var first = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var second = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal("run-1", first.Value);
        Assert.Equal("run-2", second.Value);
        Assert.Equal(JobRole.Leader, second.Role);
    }

    [Fact]
    public async Task EnqueueAsync_ExplicitKey_OverridesTheKeySelector()
    {
        await using var dedup = Dedup.Create((job, ctx, _) => ValueTask.FromResult(ctx.Key));

        var outcome = await dedup.EnqueueAsync("explicit", new Job("ignored", "x")).Within();

        Assert.Equal("explicit", outcome.Value);
        Assert.Equal("explicit", outcome.Key);
    }

    [Fact]
    public async Task EnqueueAsync_WaiterContinuationBlocks_OtherWaitersStillComplete()
    {
        // Completions run asynchronously. If they ran inline one after another, the first caller's
        // blocking continuation would stop the second from ever completing.
        var gate = new Gate();
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "v";
        });

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "second caller joined");
        using var secondDone = new ManualResetEventSlim();
        var blocked = first.ContinueWith(
            _ => secondDone.Wait(Watchdog.Limit),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _ = second.ContinueWith(_ => secondDone.Set(), TaskScheduler.Default);

        gate.Open();

        Assert.True(await blocked.Within(), "the second caller's outcome arrived while the first caller's continuation was blocked");
    }

    [Fact]
    public async Task EnqueueAsync_KeyLimitReached_RejectsTheExtraCaller()
    {
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.MaxWaitersPerKey = 3);

        var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");
        var extra = await dedup.EnqueueAsync(new Job("k", "x")).Within();
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();

        Assert.Equal(JobStatus.Rejected, extra.Status);
        Assert.IsType<JobRejectedException>(extra.Exception);
        Assert.Contains("MaxWaitersPerKey", extra.Exception!.Message);
        Assert.All(outcomes, o => Assert.Equal("v", o.Value));
    }
}
