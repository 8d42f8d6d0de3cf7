using System.Collections.Concurrent;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class ShutdownTests
{
    [Fact]
    public async Task StopAsync_HandlerFinishesWithinTimeout_EveryWaiterGetsTheValue()
    {
        var time = new FakeTimeProvider();
        var gate = new Gate();
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            },
            o => o.ShutdownTimeout = TimeSpan.FromSeconds(30),
            time);

        var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await gate.Reached.Within();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");
        var stopping = dedup.StopAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = dedup.EnqueueAsync(new Job("k", "late")); });
        Assert.False(stopping.IsCompleted);

        gate.Open();
        await stopping.Within();

        var outcomes = await Task.WhenAll(calls).Within();
        Assert.All(outcomes, o => Assert.Equal("done", o.Value));
    }

    [Fact]
    public async Task StopAsync_HandlerLeftBehindAfterItsTimeout_StopWaitsForItWithinTheShutdownTimeout()
    {
        var time = new TimerCountingTimeProvider();
        var gate = new Gate();
        var dedup = Dedup.Create(
            async (job, _, _) =>
            {
                await gate.WaitAsync(CancellationToken.None); // ignores every token
                return "late";
            },
            o =>
            {
                o.AttemptTimeout = TimeSpan.FromSeconds(1);
                o.ShutdownTimeout = TimeSpan.FromSeconds(30);
            },
            time);

        var call = dedup.EnqueueAsync(new Job("k", "x")).AsTask();
        await gate.Reached.Within();
        await Watchdog.Until(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return call.IsCompleted;
            },
            "the attempt timed out and its caller was answered");
        Assert.IsType<HandlerStuckException>((await call).Exception);

        // The caller has its outcome, but the handler still runs: shutdown gives it the shutdown timeout.
        var stopping = dedup.StopAsync();
        await Watchdog.Until(() => time.PendingTimers > 0, "shutdown waits on its timeout");
        Assert.False(stopping.IsCompleted);

        gate.Open();
        await stopping.Within();
    }

    [Fact]
    public async Task StopAsync_HandlerIgnoresCancellation_WaitersGetCanceledAfterTheTimeout()
    {
        var time = new TimerCountingTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerToken = CancellationToken.None;
        var dedup = Dedup.Create(
            (job, _, ct) =>
            {
                handlerToken = ct;
                started.TrySetResult();
                return new ValueTask<string>(new TaskCompletionSource<string>().Task); // never completes
            },
            o => o.ShutdownTimeout = TimeSpan.FromSeconds(10),
            time);

        var calls = Enumerable.Range(0, 3).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await started.Task.Within();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "two callers joined");

        var stopping = dedup.StopAsync();
        await Watchdog.Until(() => time.PendingTimers > 0, "shutdown waits on its timeout");
        Assert.False(handlerToken.IsCancellationRequested);
        time.Advance(TimeSpan.FromSeconds(10));
        await stopping.Within();

        Assert.True(handlerToken.IsCancellationRequested);
        var outcomes = await Task.WhenAll(calls).Within();
        Assert.All(outcomes, o => Assert.Equal(JobStatus.Canceled, o.Status));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await dedup.EnqueueAsync(new Job("k", "late")));
    }

    [Fact]
    public async Task StopAsync_QueuedJobsAndFlightsWaitingForASlot_AreCanceledAndNeverRun()
    {
        var gate = new Gate();
        var runs = new List<string>();
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Block(StoreOperation.TryGet, "block");
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                lock (runs)
                {
                    runs.Add(job.Key);
                }

                await gate.WaitAsync(ct);
                return job.Key;
            },
            o =>
            {
                o.MaxConcurrentHandlers = 1;
                o.DedupeWindow = TimeSpan.FromMinutes(1);
            },
            store: store.AsPlainStore());

        var running = dedup.EnqueueAsync(new Job("running", "x")).AsTask();
        await gate.Reached.Within();
        var waitingForSlot = dedup.EnqueueAsync(new Job("waiting", "x")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Active == 2, "second flight waits for a slot");
        var blocker = dedup.EnqueueAsync(new Job("block", "x")).AsTask();
        await lookup.Reached.Within();
        var queued = dedup.EnqueueAsync(new Job("queued", "x")).AsTask();

        var stopping = dedup.StopAsync();
        lookup.Open();
        Assert.Equal(JobStatus.Canceled, (await waitingForSlot.Within()).Status);
        Assert.Equal(JobStatus.Canceled, (await queued.Within()).Status);
        gate.Open();
        await stopping.Within();

        Assert.Equal("running", (await running.Within()).Value);
        Assert.Equal(JobStatus.Canceled, (await blocker.Within()).Status);
        Assert.Equal(["running"], runs);
    }

    [Fact]
    public async Task DisposeAsync_Twice_IsHarmless()
    {
        var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult("v"));
        Assert.Equal("v", (await dedup.EnqueueAsync(new Job("k", "x")).Within()).Value);

        await dedup.DisposeAsync();
        await dedup.DisposeAsync();

        var error = Assert.Throws<ObjectDisposedException>(() => { _ = dedup.EnqueueAsync("k", new Job("k", "x")); });
        Assert.Contains("test", error.Message);
    }

    // A flight whose leader has a cancelable token can be abandoned; at shutdown its wait for a slot is canceled at
    // once, and a joiner without a token gets an outcome at once too; the handler never runs.
    [Fact]
    public async Task StopAsync_FlightWithACancelableLeaderWaitingForASlot_IsCanceledAtOnceWithItsJoiners()
    {
        var gate = new Gate();
        var runs = new ConcurrentQueue<string>();
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                runs.Enqueue(job.Key);
                await gate.WaitAsync(ct);
                return job.Key;
            },
            o => o.MaxConcurrentHandlers = 1);

        var running = dedup.EnqueueAsync(new Job("running", "x")).AsTask();
        await gate.Reached.Within();
        using var leaderToken = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("waiting", "leader"), leaderToken.Token).AsTask();
        var joiner = dedup.EnqueueAsync(new Job("waiting", "joiner")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the joiner attached to the waiting flight");

        var stopping = dedup.StopAsync();
        Assert.Equal(JobStatus.Canceled, (await leader.Within()).Status);
        Assert.Equal(JobStatus.Canceled, (await joiner.Within()).Status);
        Assert.False(stopping.IsCompleted); // the running handler still has its shutdown timeout
        gate.Open();
        await stopping.Within();

        Assert.Equal("running", (await running.Within()).Value);
        Assert.Equal(["running"], runs);
    }

    // A flight that holds a claim while it waits for a slot, canceled by shutdown, releases the claim so that
    // another instance can take the key at once instead of waiting out the lease.
    [Fact]
    public async Task StopAsync_FlightHoldingAClaimWhileWaitingForASlot_ReleasesTheClaim()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return job.Key;
            },
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.MaxConcurrentHandlers = 1;
            },
            time,
            store);

        var running = dedup.EnqueueAsync(new Job("running", "x")).AsTask();
        await gate.Reached.Within();
        var waiting = dedup.EnqueueAsync(new Job("k", "x")).AsTask();
        await Watchdog.Until(() => store.CountOfGranted("k") == 1, "k is claimed and waits for a slot");

        var stopping = dedup.StopAsync();
        Assert.Equal(JobStatus.Canceled, (await waiting.Within()).Status);
        // The call is counted as it arrives; the claim is gone once the in-memory store has done it.
        var inner = (MemoryClaimingStore<string>)store.Inner;
        await Watchdog.Until(() => store.CountOf(StoreOperation.Release) == 1 && inner.OwnerOf("test", "k") is null, "the unused claim is released");
        var takeover = await store.TryClaimAsync("test", "k", "another instance", null, TimeSpan.FromSeconds(30), default);
        gate.Open();
        await stopping.Within();

        Assert.Equal(ClaimState.Claimed, takeover.State);
        Assert.Equal("running", (await running.Within()).Value);
    }
}
