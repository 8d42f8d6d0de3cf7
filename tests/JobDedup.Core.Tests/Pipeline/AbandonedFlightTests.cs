using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>
/// A key stays owned by its flight until its handler has really ended, even after every caller left or its attempt
/// timed out: an arrival (or a retry) meanwhile waits for that end (or joins a replacement flight that starts only
/// then), so one key never runs twice at once.
/// </summary>
public sealed class AbandonedFlightTests
{

    // One handler run per key at a time, also across attempts: a handler that ignores its attempt timeout is "left
    // behind", and the retry must not start a second run of the key (nor take the slot it still occupies) meanwhile.
    [Fact]
    public async Task AttemptTimeout_HandlerIgnoresItsToken_RetryNeverOverlapsTheStillRunningAttempt()
    {
        var time = new TimerCountingTimeProvider();
        var firstAttemptStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondAttemptStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new RunTracker();
        await using var dedup = Dedup.Create(
            async (job, context, _) =>
            {
                var run = runs.Start();
                try
                {
                    if (context.Attempt == 1)
                    {
                        firstAttemptStarted.TrySetResult();
                        await releaseFirstAttempt.Task; // e.g. a synchronous SDK call that ignores the token
                    }
                    else
                    {
                        secondAttemptStarted.TrySetResult();
                    }

                    return $"attempt-{context.Attempt}";
                }
                finally
                {
                    runs.End(run);
                }
            },
            o =>
            {
                o.AttemptTimeout = TimeSpan.FromSeconds(5);
                o.MaxRetryAttempts = 1;
                o.MaxConcurrentHandlers = 1;
            },
            time);

        var call = dedup.EnqueueAsync(new Job("charge-42", "x")).AsTask();
        await firstAttemptStarted.Task.Within();
        await Watchdog.Until(() => time.PendingTimers > 0, "attempt timeout armed");
        time.Advance(TimeSpan.FromSeconds(5));

        // The timed-out attempt is still executing. A fixed engine either fails the flight with the timeout (no
        // retry of an attempt it could not stop) or waits for it; it never starts the job a second time meanwhile.
        // (This wait assumes the first kind of fix; for the second, open the release first.)
        await Task.WhenAny(secondAttemptStarted.Task, call).Within();
        releaseFirstAttempt.TrySetResult();
        await call.Within();

        // The retry may not have run "charge-42" while attempt 1 was still running, in the slot attempt 1 still
        // occupied (MaxConcurrentHandlers = 1).
        Assert.Equal(1, runs.MaxConcurrent);
    }

    [Fact]
    public async Task EnqueueAsync_OnlyCallerLeavesWhileTheHandlerBlocksInItsSynchronousPart_NextArrivalRunsOnlyAfterTheHandlerEnded()
    {
        var runs = new RunTracker();
        using var release = new ManualResetEventSlim();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dedup = Dedup.Create(TrackedRuns.Handler(runs, (run, _, _) =>
        {
            if (run == 1)
            {
                // A blocking SDK call before the handler returns its task: the engine cannot see it yet.
                blocking.TrySetResult();
                release.Wait(Watchdog.Limit, CancellationToken.None);
            }

            return ValueTask.CompletedTask;
        }));

        Task<JobOutcome<string>> second;
        try
        {
            using var leaving = new CancellationTokenSource();
            var first = dedup.EnqueueAsync(new Job("k", "1"), leaving.Token).AsTask();
            await blocking.Task.Within();
            await leaving.CancelAsync();
            Assert.Equal(JobStatus.Canceled, (await first.Within()).Status);

            second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
            await dedup.AfterTheDispatcherTookEverythingBeforeAsync();

            Assert.True(runs.Runs == 1, $"A second run of the key started while the first was still inside its handler: {string.Join(", ", runs.Events)}.");
        }
        finally
        {
            release.Set(); // also when an assertion failed, so that disposing the deduplicator does not wait on it
        }

        var outcome = await second.Within();

        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("run-2", outcome.Value);
        Assert.Equal(1, runs.MaxConcurrent);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], runs.Events);
    }

    [Fact]
    public async Task EnqueueAsync_EveryCallerLeftAndTheHandlerIgnoresItsToken_NextArrivalGetsARunThatStartsOnlyAfterTheHandlerEnded()
    {
        var runs = new RunTracker();
        var stillRunning = new Gate();
        await using var dedup = Dedup.Create(TrackedRuns.Handler(runs, async (run, _, _) =>
        {
            if (run == 1)
            {
                await stillRunning.WaitAsync(CancellationToken.None); // ignores its token
            }
        }));

        Task<JobOutcome<string>> second;
        try
        {
            using var leaving = new CancellationTokenSource();
            var first = dedup.EnqueueAsync(new Job("k", "1"), leaving.Token).AsTask();
            await stillRunning.Reached.Within();
            await leaving.CancelAsync();
            Assert.Equal(JobStatus.Canceled, (await first.Within()).Status);

            second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
            await dedup.AfterTheDispatcherTookEverythingBeforeAsync();

            Assert.True(runs.Runs == 1, $"A second run of the key started while the first was still inside its handler: {string.Join(", ", runs.Events)}.");
            Assert.False(second.IsCompleted, "The arrival got an outcome before the handler it had to wait for ended.");
        }
        finally
        {
            stillRunning.Open();
        }

        var outcome = await second.Within();

        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("run-2", outcome.Value);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], runs.Events);
    }

    [Fact]
    public async Task EnqueueAsync_CallerCancelsFromAThreadWithASynchronizationContext_NextArrivalNeverOverlapsTheLeftBehindHandler()
    {
        const int Rounds = 2000;
        var runs = new RunTracker();
        var gates = Enumerable.Range(0, Rounds).Select(_ => new Gate()).ToArray();
        using var context = new SingleThreadSynchronizationContext();
        await using var dedup = Dedup.Create(TrackedRuns.Handler(runs, async (_, job, _) =>
        {
            if (job.Payload.StartsWith("first:", StringComparison.Ordinal))
            {
                await gates[int.Parse(job.Payload["first:".Length..], System.Globalization.CultureInfo.InvariantCulture)].WaitAsync(CancellationToken.None);
            }
        }));

        for (var round = 0; round < Rounds; round++)
        {
            using var leaving = new CancellationTokenSource();
            Task<JobOutcome<string>> first, second;
            try
            {
                first = dedup.EnqueueAsync(new Job("k", $"first:{round}"), leaving.Token).AsTask();
                await gates[round].Reached.Within();

                // The cancel and the next arrival come from a thread with a synchronization context, as from a UI or a
                // legacy ASP.NET request thread.
                second = await context.RunAsync(() =>
                {
                    leaving.Cancel();
                    return dedup.EnqueueAsync(new Job("k", "second")).AsTask();
                }).Within();
                await dedup.AfterTheDispatcherTookEverythingBeforeAsync();
            }
            finally
            {
                gates[round].Open();
            }

            Assert.Equal(JobStatus.Canceled, (await first.Within()).Status);
            Assert.Equal(JobStatus.Succeeded, (await second.Within()).Status);
        }

        Assert.True(runs.Overlaps == 0, $"In {Rounds} rounds, {runs.Overlaps} runs of the key started beside the left-behind handler.");
        Assert.Equal(2 * Rounds, runs.Runs);
    }

    [Fact]
    public async Task EnqueueAsync_HandlersCancellationCallbackBlocksWhenItsOnlyCallerLeaves_NextArrivalDoesNotRunBesideTheHandler()
    {
        var runs = new RunTracker();
        var registered = new Gate();
        var stillRunning = new Gate();
        var aborting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var abortReturns = new ManualResetEventSlim();
        await using var dedup = Dedup.Create(TrackedRuns.Handler(runs, async (run, _, ct) =>
        {
            if (run == 1)
            {
                await registered.WaitAsync(CancellationToken.None);

                // Aborting the client's request blocks for a while, as synchronous SDK aborts do; the work itself
                // ignores the token and goes on.
                using var abort = ct.Register(() =>
                {
                    aborting.TrySetResult();
                    abortReturns.Wait(Watchdog.Limit, CancellationToken.None);
                });
                await stillRunning.WaitAsync(CancellationToken.None);
            }
        }));

        Task<JobOutcome<string>> second;
        Task canceling;
        using var leaving = new CancellationTokenSource();
        var first = dedup.EnqueueAsync(new Job("k", "1"), leaving.Token).AsTask();
        try
        {
            await registered.Reached.Within();
            registered.Open();
            await stillRunning.Reached.Within();
            canceling = Task.Run(leaving.Cancel);
            await aborting.Task.Within();
            Assert.Equal(JobStatus.Canceled, (await first.Within()).Status);

            second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
            await dedup.AfterTheDispatcherTookEverythingBeforeAsync();

            Assert.True(runs.Runs == 1, $"A second run of the key started while the first was still inside its handler: {string.Join(", ", runs.Events)}.");
        }
        finally
        {
            abortReturns.Set();
            stillRunning.Open();
        }

        await canceling.Within();
        var outcome = await second.Within();

        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("run-2", outcome.Value);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], runs.Events);
    }
}
