using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>
/// <see cref="JobDedupOptions{TJob}.CallerRunsHandler"/>: the caller that starts a flight runs its handler on its own
/// thread up to the first await; everything else about the flight (joins, cancellation, failures) stays as it is.
/// </summary>
public sealed class CallerRunsHandlerTests
{
    [Fact]
    public Task EnqueueAsync_HandlerThatDoesNotWait_AnswersOnTheCallersThreadBeforeEnqueueReturns() => OffContext(async () =>
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
    });

    [Fact]
    public Task EnqueueAsync_OptionOff_ACallerIsNotHeldByAHandlerThatBlocks() => OffContext(async () =>
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
    });

    [Fact]
    public Task EnqueueAsync_HandlerAwaits_TheCallerReturnsAtTheAwaitAndADuplicateJoinsTheRun() => OffContext(async () =>
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
    });

    [Fact]
    public Task EnqueueAsync_HandlerThrowsSynchronously_TheCallerGetsAFailedOutcomeNotTheException() => OffContext(async () =>
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
    });

    [Fact]
    public Task EnqueueAsync_OnlyCallerLeavesWhileItsHandlerWaits_TheHandlerTokenFiresAndTheKeyIsFreed() => OffContext(async () =>
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
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public Task EnqueueAsync_AnswerKeptInTheWindow_IsReplayedToTheNextCallerAtOnce(bool givenMemoryStore) => OffContext(async () =>
    {
        // A MemoryOutcomeStore given to the deduplicator (the idempotency layer gives one that packs its answers) is
        // used as the built-in window is: it answers at once and cannot fail, so callers read it themselves (an
        // application's own store is read by the dispatcher, and the answers below would not be there at once).
        var store = givenMemoryStore ? new MemoryOutcomeStore<string>(100) : null;
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
            },
            store: store);

        var started = dedup.EnqueueAsync(new Job("k", "1"));
        Assert.True(started.IsCompleted, "the run answers before EnqueueAsync returns");
        var first = await started;
        var pending = dedup.EnqueueAsync(new Job("k", "2"));

        Assert.True(pending.IsCompleted, "a replay from the in-memory window needs no thread switch");
        var second = await pending;
        Assert.Equal(1, runs);
        Assert.Equal((JobRole.Leader, "1"), (first.Role, first.Value));
        Assert.Equal((JobRole.Replayed, "1"), (second.Role, second.Value));
        if (store is not null)
        {
            Assert.Equal(1, store.Count);
        }
    });

    [Fact]
    public Task EnqueueAsync_WindowInAStoreOfTheApplications_IsNotReadOnTheCallersThread() => OffContext(async () =>
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
    });

    [Fact]
    public async Task EnqueueAsync_CallerWithASynchronizationContext_DoesNotRunTheHandler()
    {
        // A flight run by such a caller would post its continuations back to it (a UI thread, say).
        using var release = new ManualResetEventSlim();
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                return ValueTask.FromResult("v");
            },
            o => o.CallerRunsHandler = true);

        Task<JobOutcome<string>> pending;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new SynchronizationContext());
        try
        {
            pending = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        // EnqueueAsync returned while the handler still blocks: it runs on the thread pool.
        Assert.False(pending.IsCompleted);
        release.Set();
        Assert.Equal("v", (await pending.Within()).Value);
    }

    [Fact]
    public Task EnqueueAsync_ReplacePolicy_TheStartingCallerDoesNotRunTheHandler() => OffContext(async () =>
    {
        // Under Replace the job a flight runs may be a later caller's: the starting caller must not run it.
        using var release = new ManualResetEventSlim();
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                return ValueTask.FromResult(job.Payload);
            },
            o =>
            {
                o.CallerRunsHandler = true;
                o.OnDuplicate = DuplicatePolicy.Replace;
            });

        var pending = dedup.EnqueueAsync(new Job("k", "1")).AsTask();

        Assert.False(pending.IsCompleted);
        release.Set();
        Assert.Equal("1", (await pending.Within()).Value);
    });

    [Fact]
    public Task EnqueueAsync_TheHandlerRunsInTheStartingCallersAmbientContext() => OffContext(async () =>
    {
        // As with a direct call: what the caller set in an AsyncLocal is what its handler sees.
        var ambient = new AsyncLocal<string?>();
        string? seen = null;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                seen = ambient.Value;
                return ValueTask.FromResult("v");
            },
            o => o.CallerRunsHandler = true);

        ambient.Value = "caller";
        var outcome = await dedup.EnqueueAsync(new Job("k", "1")).Within();

        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        Assert.Equal("caller", seen);
    });

    /// <summary>
    /// Runs a test body as an ASP.NET Core request or a worker runs: on the thread pool, with no synchronization context
    /// (the test runner has one, and a caller with one never runs the handler).
    /// </summary>
    private static Task OffContext(Func<Task> body) => Task.Run(body);
}
