using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>
/// <see cref="JobDedupOptions{TJob}.CallerRunsHandler"/>: the caller that starts a flight runs its handler on its own
/// thread up to the first await; everything else about the flight (joins, cancellation, failures) stays as it is.
/// </summary>
public sealed class CallerRunsHandlerTests
{
    [Fact]
    public async Task EnqueueAsync_HandlerThatDoesNotWait_AnswersOnTheCallersThreadBeforeEnqueueReturns()
    {
        var handlerThread = -1;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                handlerThread = Environment.CurrentManagedThreadId;
                return ValueTask.FromResult("v");
            },
            o => o.CallerRunsHandler = true);

        var callerThread = Environment.CurrentManagedThreadId;
        var pending = dedup.EnqueueAsync(new Job("k", "1"));

        Assert.True(pending.IsCompleted, "the outcome should be there when EnqueueAsync returns");
        Assert.Equal(callerThread, handlerThread);
        var outcome = await pending;
        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("v", outcome.Value);
    }

    [Fact]
    public async Task EnqueueAsync_OptionOff_ACallerIsNotHeldByAHandlerThatBlocks()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        await using var dedup = Dedup.Create((job, _, _) =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None); // blocks its thread, as a synchronous handler does
            return ValueTask.FromResult("v");
        });

        var pending = dedup.EnqueueAsync(new Job("k", "1")).AsTask();

        // EnqueueAsync returned while the handler blocks on another thread.
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the handler started");
        Assert.False(pending.IsCompleted);
        release.Set();
        Assert.Equal("v", (await pending.Within()).Value);
    }

    [Fact]
    public async Task EnqueueAsync_HandlerAwaits_TheCallerReturnsAtTheAwaitAndADuplicateJoinsTheRun()
    {
        var gate = new Gate();
        var runs = 0;
        var threadBeforeAwait = -1;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                threadBeforeAwait = Environment.CurrentManagedThreadId;
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.CallerRunsHandler = true);

        var callerThread = Environment.CurrentManagedThreadId;
        var leader = dedup.EnqueueAsync(new Job("k", "1")).AsTask();

        // The handler ran on this thread up to its await, and EnqueueAsync returned there.
        Assert.Equal(1, gate.Arrivals);
        Assert.Equal(callerThread, threadBeforeAwait);
        Assert.False(leader.IsCompleted);

        var joiner = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the duplicate joined");
        gate.Open();

        var led = await leader.Within();
        var joined = await joiner.Within();
        Assert.Equal(1, runs);
        Assert.Equal((JobRole.Leader, "v"), (led.Role, led.Value));
        Assert.Equal((JobRole.Joined, "v"), (joined.Role, joined.Value));
    }

    [Fact]
    public async Task EnqueueAsync_HandlerThrowsSynchronously_TheCallerGetsAFailedOutcomeNotTheException()
    {
        await using var dedup = Dedup.Create(
            (job, _, _) => throw new InvalidOperationException("boom"),
            o => o.CallerRunsHandler = true);

        var outcome = await dedup.EnqueueAsync(new Job("k", "1")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.Equal("boom", Assert.IsType<InvalidOperationException>(outcome.Exception).Message);

        // The key is free again: the next caller runs the handler anew.
        var again = await dedup.EnqueueAsync(new Job("k", "2")).Within();
        Assert.Equal(JobStatus.Failed, again.Status);
        Assert.Equal(0, dedup.GetStats().Active);
    }

    [Fact]
    public async Task EnqueueAsync_OnlyCallerLeavesWhileItsHandlerWaits_TheHandlerTokenFiresAndTheKeyIsFreed()
    {
        var gate = new Gate();
        var handlerToken = CancellationToken.None;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                handlerToken = ct;
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.CallerRunsHandler = true);

        using var leaves = new CancellationTokenSource();
        var only = dedup.EnqueueAsync(new Job("k", "1"), leaves.Token).AsTask();
        Assert.Equal(1, gate.Arrivals);

        leaves.Cancel();

        Assert.Equal(JobStatus.Canceled, (await only.Within()).Status);
        await Watchdog.Until(() => handlerToken.IsCancellationRequested, "the abandoned handler's token fired");
        await Watchdog.Until(() => dedup.GetStats().Active == 0, "the key was given up");
    }

    [Fact]
    public async Task EnqueueAsync_AnswerKeptInTheWindow_IsReplayedToTheNextCallerAtOnce()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(job.Payload);
            },
            o =>
            {
                o.CallerRunsHandler = true;
                o.DedupeWindow = TimeSpan.FromMinutes(1);
            });

        var first = await dedup.EnqueueAsync(new Job("k", "1")).Within();
        var pending = dedup.EnqueueAsync(new Job("k", "2"));

        Assert.True(pending.IsCompleted, "a replay from the in-memory window needs no thread switch");
        var second = await pending;
        Assert.Equal(1, runs);
        Assert.Equal((JobRole.Leader, "1"), (first.Role, first.Value));
        Assert.Equal((JobRole.Replayed, "1"), (second.Role, second.Value));
    }

    [Fact]
    public async Task EnqueueAsync_WindowInAStoreOfTheApplications_IsNotReadOnTheCallersThread()
    {
        // The store's lookup blocks its thread: it must be the dispatcher's, never the caller's.
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Block(StoreOperation.TryGet, "k");
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("v"),
            o =>
            {
                o.CallerRunsHandler = true;
                o.DedupeWindow = TimeSpan.FromMinutes(1);
            },
            store: store.AsPlainStore());

        var pending = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await lookup.Reached.Within();

        Assert.False(pending.IsCompleted);
        lookup.Open();
        Assert.Equal("v", (await pending.Within()).Value);
    }
}
