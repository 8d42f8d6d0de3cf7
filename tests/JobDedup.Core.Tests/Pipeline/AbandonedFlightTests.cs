using System.Collections.Concurrent;
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
        // A race, not a schedule: rounds on several keys at once, each canceled from its own context thread.
        const int Rounds = 1000;
        const int Lanes = 4;
        var runs = Enumerable.Range(0, Lanes).Select(_ => new RunTracker()).ToArray();
        var contexts = Enumerable.Range(0, Lanes).Select(_ => new SingleThreadSynchronizationContext()).ToArray();
        var gates = new ConcurrentDictionary<string, Gate>(StringComparer.Ordinal);
        try
        {
            await using var dedup = Dedup.Create(TrackedRuns.Handler(
                job => runs[job.Key[^1] - '0'],
                async (_, job, _) =>
                {
                    if (gates.TryGetValue(job.Payload, out var gate))
                    {
                        await gate.WaitAsync(CancellationToken.None); // ignores its token
                    }
                }));

            for (var round = 0; round < Rounds; round++)
            {
                await Task.WhenAll(Enumerable.Range(0, Lanes).Select(lane => RoundAsync(dedup, contexts[lane], gates, $"k{lane}", round)));
            }
        }
        finally
        {
            foreach (var context in contexts)
            {
                context.Dispose();
            }
        }

        var overlaps = runs.Sum(r => r.Overlaps);
        Assert.True(overlaps == 0, $"In {Rounds} rounds on {Lanes} keys, {overlaps} runs of a key started beside its left-behind handler.");
        Assert.All(runs, r => Assert.Equal(2 * Rounds, r.Runs));
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

    /// <summary>
    /// One round on one key: the only caller leaves (canceled from a thread with a synchronization context, as from a
    /// UI or a legacy ASP.NET request thread) while the handler ignores its token, and the next arrival comes from
    /// that thread at once.
    /// </summary>
    private static async Task RoundAsync(
        JobDeduplicator<Job, string> dedup,
        SingleThreadSynchronizationContext context,
        ConcurrentDictionary<string, Gate> gates,
        string key,
        int round)
    {
        var payload = $"first:{key}:{round}";
        var gate = gates[payload] = new Gate();
        using var leaving = new CancellationTokenSource();
        Task<JobOutcome<string>> first, second;
        try
        {
            first = dedup.EnqueueAsync(new Job(key, payload), leaving.Token).AsTask();
            await gate.Reached.Within();
            second = await context.RunAsync(() =>
            {
                leaving.Cancel();
                return dedup.EnqueueAsync(new Job(key, "second")).AsTask();
            }).Within();
            await dedup.AfterTheDispatcherTookEverythingBeforeAsync();
        }
        finally
        {
            gate.Open();
        }

        Assert.Equal(JobStatus.Canceled, (await first.Within()).Status);
        Assert.Equal(JobStatus.Succeeded, (await second.Within()).Status);
    }
}
