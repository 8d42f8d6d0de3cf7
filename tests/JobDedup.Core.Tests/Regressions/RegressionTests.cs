using System.Collections;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;
using JobDedup.Core.Tests.Support;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Telemetry;

namespace JobDedup.Core.Tests.Regressions;

/// <summary>
/// Regression tests for defects found in review. Each one fails on the code it was written against and passes once
/// the defect it names is fixed.
/// </summary>
public sealed class RegressionTests
{
    // Rule 5 and the dedupe window: a flight that was forgotten must not write its (older) outcome into the window
    // after a newer flight for the same key already did.
    [Fact]
    public async Task Forget_OldFlightFinishesAfterTheNewOne_WindowKeepsTheNewerOutcome()
    {
        var gates = new[] { new Gate(), new Gate() };
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, _) =>
            {
                var run = Interlocked.Increment(ref runs);
                await gates[run - 1].WaitAsync(CancellationToken.None);
                return $"run-{run}";
            },
            o => o.CompletedRetention = TimeSpan.FromHours(1));

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await gates[0].Reached.Within();
        dedup.Forget("k"); // e.g. the data behind "k" changed: the answer of run 1 is stale from now on
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await gates[1].Reached.Within();

        gates[1].Open();
        Assert.Equal("run-2", (await second.Within()).Value);
        gates[0].Open();
        Assert.Equal("run-1", (await first.Within()).Value);

        var late = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        // Current code: the forgotten flight saved "run-1" over "run-2", so the late duplicate replays the stale value.
        Assert.Equal(2, runs);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.Equal("run-2", late.Value);
    }

    // Rule 7: waiters per key are capped, but the flight keeps every caller that ever joined in its list, including
    // the ones that left. A long flight with callers that time out and retry grows without bound.
    [Fact]
    public async Task EnqueueAsync_CallersJoinAndLeaveALongFlight_ItsWaiterListStaysWithinMaxWaitersPerKey()
    {
        const int MaxWaiters = 4;
        const int Rounds = 100;
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.MaxWaitersPerKey = MaxWaiters);

        var leader = dedup.EnqueueAsync(new Job("k", "leader")).AsTask();
        await gate.Reached.Within();
        for (var round = 0; round < Rounds; round++)
        {
            var sources = Enumerable.Range(0, MaxWaiters - 1).Select(_ => new CancellationTokenSource()).ToArray();
            var calls = sources.Select(s => dedup.EnqueueAsync(new Job("k", "joiner"), s.Token).AsTask()).ToArray();
            var joined = (round + 1) * (MaxWaiters - 1);
            await Watchdog.Until(() => dedup.GetStats().Hits == joined, "joiners attached");
            foreach (var source in sources)
            {
                source.Cancel();
                source.Dispose();
            }

            Assert.All(await Task.WhenAll(calls).Within(), o => Assert.Equal(JobStatus.Canceled, o.Status));
        }

        var retained = WaiterListLength(dedup, "k");
        gate.Open();
        Assert.Equal("v", (await leader.Within()).Value);

        // Before the fix: 1 + 100 * 3 = 301 waiters (and their jobs) held by a flight that has 1 caller attached.
        // Callers that left are dropped once the list reaches the limit (or twice the callers still waiting), so the
        // list never holds more than twice MaxWaitersPerKey.
        Assert.InRange(retained, 1, 2 * MaxWaiters);
    }

    // Rule 1: one handler run per key at a time. With an attempt timeout, a handler that ignores its token is "left
    // behind", its slot is released, and the retry starts a second run of the same key while the first still runs.
    [Fact]
    public async Task AttemptTimeout_HandlerIgnoresItsToken_RetryNeverOverlapsTheStillRunningAttempt()
    {
        var time = new TimerCountingTimeProvider();
        var firstAttemptStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondAttemptStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var maxRunning = 0;
        await using var dedup = Dedup.Create(
            async (job, context, _) =>
            {
                InterlockedMax(ref maxRunning, Interlocked.Increment(ref running));
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
                    Interlocked.Decrement(ref running);
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

        // Current code: the retry ran "charge-42" while attempt 1 was still running, and in a slot that attempt 1
        // still occupied (MaxConcurrentHandlers = 1).
        Assert.Equal(1, Volatile.Read(ref maxRunning));
    }

    // "No fire-and-forget task unobserved": when every caller of a SharedCall flight has left and the work then
    // fails, the shared TaskCompletionSource is faulted and nobody ever observes it.
    [Fact]
    public void SharedCall_EveryCallerLeftThenTheWorkFails_NoUnobservedTaskException()
    {
        var marker = $"shared-call-{Guid.NewGuid():N}";
        Assert.Equal(0, CountUnobserved(marker, () => SharedCallAbandonedThenFails(marker)));
    }

    // Same class of defect in the job pipeline: a flight canceled while it waits for an asynchronous store lookup
    // stops listening to the lookup; when the lookup later fails, its exception is never observed.
    [Fact]
    public void EnqueueAsync_FlightAbandonedDuringAsyncStoreLookup_LookupFailureIsObserved()
    {
        var marker = $"lookup-{Guid.NewGuid():N}";
        Assert.Equal(0, CountUnobserved(marker, () => LookupAbandonedThenFails(marker)));
    }

    // "The dedupe key is never a tag": the key is passed to Polly as the operation key, which Polly's telemetry
    // (Polly.Extensions, AddResiliencePipeline) turns into the operation.key tag of every resilience metric.
    [Fact]
    public async Task ResiliencePipeline_CustomPipelineWithTelemetry_NeverSeesTheDedupeKey()
    {
        var listener = new OperationKeyListener();
        var pipeline = new ResiliencePipelineBuilder { TelemetryListener = listener }
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 1, Delay = TimeSpan.Zero })
            .Build();
        await using var dedup = Dedup.Create(
            (job, context, _) => context.Attempt == 1
                ? throw new InvalidOperationException("first attempt fails")
                : ValueTask.FromResult("ok"),
            o => o.ResiliencePipeline = pipeline);

        Assert.Equal("ok", (await dedup.EnqueueAsync(new Job("customer-4711-invoice-99", "x")).Within()).Value);

        Assert.NotEmpty(listener.OperationKeys);
        Assert.DoesNotContain("customer-4711-invoice-99", listener.OperationKeys);
    }

    // Rule 8: an exception never escapes the dispatcher loop. Both catch blocks log first; if logging throws (a
    // Microsoft.Extensions.Logging Logger rethrows a provider's failure as AggregateException), the exception leaves
    // the loop, the dispatcher task faults, and every queued and later caller hangs.
    [Fact]
    public async Task Dispatcher_LoggingThrowsWhileReportingAFailure_LoopGoesOnAndTheCallerGetsAnOutcome()
    {
        await using var dedup = new JobDeduplicator<Job, string>(
            (job, _, _) => ValueTask.FromResult(job.Key),
            new JobDedupOptions<Job>
            {
                Name = "review-throwing-logger",
                KeySelector = j => j.Key,
                MaxRetryAttempts = 0,
                CompletedRetention = TimeSpan.FromMinutes(1),
                ShutdownTimeout = TimeSpan.Zero,
            },
            new ThrowingLoggerFactory(),
            outcomeStore: LookupThrowsFor("poison"));

        var poisoned = dedup.EnqueueAsync(new Job("poison", "x")).AsTask();
        var healthy = dedup.EnqueueAsync(new Job("fine", "x")).AsTask();

        var dispatcher = (Task)typeof(JobDeduplicator<Job, string>)
            .GetField("_dispatcher", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(dedup)!;
        await Task.WhenAny(dispatcher, healthy).Within();

        Assert.False(dispatcher.IsFaulted, $"The dispatcher loop died: {dispatcher.Exception?.InnerException}");
        Assert.Equal("fine", (await healthy.Within()).Value);
        Assert.Equal(JobStatus.Failed, (await poisoned.Within()).Status);
    }

    // Same rule, other place: RunFlightAsync records jobdedup.flights.active before its try block. If a metrics
    // callback throws there, the flight task faults unobserved, the flight never completes, its callers hang and the
    // key stays mapped to a dead flight, so every later duplicate joins it and hangs too.
    [Fact]
    public async Task EnqueueAsync_MetricsListenerThrows_CallerStillGetsAnOutcomeAndTheKeyIsFreed()
    {
        var name = $"review-throwing-meter-{Guid.NewGuid():N}";
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == JobDedupTelemetry.Name && instrument.Name == "jobdedup.flights.active")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == JobDedupTelemetry.DeduplicatorTag && Equals(tag.Value, name) && value > 0)
                {
                    throw new InvalidOperationException("metrics exporter bug");
                }
            }
        });
        listener.Start();

        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("v"),
            o =>
            {
                o.Name = name;
                o.ShutdownTimeout = TimeSpan.Zero;
            });

        // Current code: never completes (the watchdog turns the hang into a failure after 20 s).
        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.NotEqual(JobStatus.Canceled, outcome.Status);
        Assert.Equal(0, dedup.GetStats().Active);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static int WaiterListLength(JobDeduplicator<Job, string> dedup, string key)
    {
        const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
        var table = typeof(JobDeduplicator<Job, string>).GetField("_flights", Private)!.GetValue(dedup)!;
        var map = (IDictionary)table.GetType().GetField("_flights", Private)!.GetValue(table)!;
        return ((JobDedup.Pipeline.JobFlight<Job, string>)map[key]!).HeldWaiters;
    }

    private static int CountUnobserved(string marker, Func<Task> scenario)
    {
        var count = 0;
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.Flatten().InnerExceptions.Any(x => x.Message == marker))
            {
                Interlocked.Increment(ref count);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            RunAndForget(scenario);
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            return Volatile.Read(ref count);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    // Runs the scenario to the end on a separate frame, so nothing it created stays reachable from the test.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunAndForget(Func<Task> scenario) => Task.Run(scenario).Within().GetAwaiter().GetResult();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task SharedCallAbandonedThenFails(string marker)
    {
        var call = new SharedCall<string, string>(new SharedCallOptions { RunToCompletionWhenAbandoned = true });

        // Not RunContinuationsAsynchronously: failing it runs the flight's Finish inline, so when SetException
        // returns the flight has published its outcome.
        var work = new TaskCompletionSource<string>();
        using (var cts = new CancellationTokenSource())
        {
            var caller = call.RunAsync("k", _ => work.Task, cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller).Within();
        }

        work.SetException(new InvalidOperationException(marker));
        Assert.Equal(1, call.GetStats().Errors);
        Assert.Equal(0, call.GetStats().Active);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task LookupAbandonedThenFails(string marker)
    {
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Hold(StoreOperation.TryGet, "k");
        var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("never"),
            o => o.CompletedRetention = TimeSpan.FromHours(1),
            store: store.AsPlainStore());
        await using (dedup)
        {
            using var cts = new CancellationTokenSource();
            var caller = dedup.EnqueueAsync(new Job("k", "x"), cts.Token).AsTask();
            await Watchdog.Until(() => dedup.GetStats().Active == 1, "flight waits for the lookup");
            cts.Cancel();
            Assert.Equal(JobStatus.Canceled, (await caller.Within()).Status);
            await Watchdog.Until(() => dedup.GetStats().Active == 0, "abandoned flight completed");
        }

        lookup.Fail(new TimeoutException(marker));
    }

    private sealed class OperationKeyListener : TelemetryListener
    {
        private readonly List<string?> _keys = [];

        public IReadOnlyList<string?> OperationKeys
        {
            get
            {
                lock (_keys)
                {
                    return [.. _keys];
                }
            }
        }

        public override void Write<TResult, TArgs>(in TelemetryEventArguments<TResult, TArgs> args)
        {
            lock (_keys)
            {
                _keys.Add(args.Context.OperationKey);
            }
        }
    }

    private static IOutcomeStore<string> LookupThrowsFor(string poisonKey)
    {
        var store = new ScriptableOutcomeStore<string>();
        store.Throw(StoreOperation.TryGet, new InvalidOperationException("store connection lost"), poisonKey);
        return store.AsPlainStore();
    }

    private sealed class ThrowingLoggerFactory : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger();

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new AggregateException("An error occurred while writing to logger(s).", new IOException("log sink unavailable"));
        }
    }
}
