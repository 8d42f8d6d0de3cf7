using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class CancellationTests
{
    [Fact]
    public async Task EnqueueAsync_OneWaiterCancels_OthersStillGetTheValue()
    {
        var gate = new Gate();
        var handlerToken = CancellationToken.None;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            handlerToken = ct;
            await gate.WaitAsync(ct);
            return "v";
        });

        using var impatient = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await gate.Reached.Within();
        var leaving = dedup.EnqueueAsync(new Job("k", "2"), impatient.Token).AsTask();
        var staying = dedup.EnqueueAsync(new Job("k", "3")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");

        impatient.Cancel();
        var left = await leaving.Within();
        Assert.False(handlerToken.IsCancellationRequested);
        gate.Open();

        Assert.Equal(JobStatus.Canceled, left.Status);
        Assert.IsAssignableFrom<OperationCanceledException>(left.Exception);
        Assert.Equal(JobRole.Joined, left.Role);
        Assert.Equal("v", (await leader.Within()).Value);
        Assert.Equal("v", (await staying.Within()).Value);
    }

    [Fact]
    public async Task EnqueueAsync_LeaderCancels_HandlerKeepsRunningForTheJoiners()
    {
        var gate = new Gate();
        var handlerToken = CancellationToken.None;
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            handlerToken = ct;
            await gate.WaitAsync(ct);
            return "v";
        });

        using var leaderLeaves = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("k", "1"), leaderLeaves.Token).AsTask();
        await gate.Reached.Within();
        var joiner = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "joiner attached");

        leaderLeaves.Cancel();
        Assert.Equal(JobStatus.Canceled, (await leader.Within()).Status);
        Assert.False(handlerToken.IsCancellationRequested);
        gate.Open();

        Assert.Equal("v", (await joiner.Within()).Value);
    }

    [Fact]
    public async Task EnqueueAsync_EveryWaiterCancels_HandlerTokenFires()
    {
        var tokenFired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            using var registration = ct.Register(() => tokenFired.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        });

        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var a = dedup.EnqueueAsync(new Job("k", "1"), first.Token).AsTask();
        await started.Task.Within();
        var b = dedup.EnqueueAsync(new Job("k", "2"), second.Token).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "second caller joined");

        first.Cancel();
        await a.Within();
        Assert.False(tokenFired.Task.IsCompleted);
        second.Cancel();
        await tokenFired.Task.Within();

        Assert.Equal(JobStatus.Canceled, (await b.Within()).Status);
        await Watchdog.Until(() => dedup.GetStats().Active == 0, "abandoned flight left the map");
        var next = await AfterAbandonment(dedup);
        Assert.Equal(JobRole.Leader, next.Role);
    }

    [Fact]
    public async Task EnqueueAsync_EveryWaiterCancelsWithRunToCompletion_HandlerFinishesAndItsValueIsKept()
    {
        var gate = new Gate();
        var handlerToken = CancellationToken.None;
        var runs = 0;
        var time = new FakeTimeProvider();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                handlerToken = ct;
                await gate.WaitAsync(CancellationToken.None);
                return "finished";
            },
            o =>
            {
                o.RunToCompletionWhenAbandoned = true;
                o.DedupeWindow = TimeSpan.FromMinutes(5);
            },
            time);

        using var cts = new CancellationTokenSource();
        var only = dedup.EnqueueAsync(new Job("k", "1"), cts.Token).AsTask();
        await gate.Reached.Within();
        cts.Cancel();
        Assert.Equal(JobStatus.Canceled, (await only.Within()).Status);
        Assert.False(handlerToken.IsCancellationRequested);

        gate.Open();
        await Watchdog.Until(() => dedup.GetStats().Active == 0, "flight finished");
        var late = await dedup.EnqueueAsync(new Job("k", "2")).Within();

        Assert.Equal(1, runs);
        Assert.Equal("finished", late.Value);
        Assert.Equal(JobRole.Replayed, late.Role);
    }

    [Fact]
    public async Task EnqueueAsync_TokenAlreadyCanceled_ReturnsCanceledWithoutRunning()
    {
        var runs = 0;
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult($"{Interlocked.Increment(ref runs)}"));

        var outcome = await dedup.EnqueueAsync(new Job("k", "x"), new CancellationToken(canceled: true)).Within();

        Assert.Equal(JobStatus.Canceled, outcome.Status);
        Assert.Equal(JobRole.None, outcome.Role);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task EnqueueAsync_CancellationRacesJoinAndCompletion_EveryCallerGetsAnOutcomeAndNoKeyLeaks()
    {
        // Tokens fire while callers are queued, being attached, and while the flight completes. Whatever the order,
        // each caller gets exactly one outcome and no flight stays behind.
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            await Task.Yield();
            return job.Key;
        });

        for (var round = 0; round < 200; round++)
        {
            var sources = Enumerable.Range(0, 20).Select(_ => new CancellationTokenSource()).ToArray();
            var calls = sources.Select((s, i) => dedup.EnqueueAsync(new Job($"k{round % 3}", $"{i}"), s.Token).AsTask()).ToArray();
            Parallel.For(0, sources.Length, i =>
            {
                if (i % 2 == 0)
                {
                    sources[i].Cancel();
                }
            });
            var outcomes = await Task.WhenAll(calls).Within();
            Assert.All(outcomes, o => Assert.True(o.Status is JobStatus.Succeeded or JobStatus.Canceled, o.ToString()));
            Assert.All(outcomes.Where((_, i) => i % 2 == 1), o => Assert.Equal(JobStatus.Succeeded, o.Status));
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }

        await Watchdog.Until(() => dedup.GetStats().Active == 0, "every flight left the map");
    }

    private static async Task<JobOutcome<string>> AfterAbandonment(JobDeduplicator<Job, string> dedup)
    {
        // The abandoned handler ended; the key is free, so a new caller leads a new flight.
        using var cts = new CancellationTokenSource();
        var next = dedup.EnqueueAsync(new Job("k", "3"), cts.Token).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Misses == 2, "a new flight started");
        cts.Cancel();
        return await next.Within();
    }
}
