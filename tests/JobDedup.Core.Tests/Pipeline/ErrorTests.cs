using JobDedup.Core.Tests.Support;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class ErrorTests
{
    [Fact]
    public async Task EnqueueAsync_HandlerFails_EveryWaiterGetsTheSameException()
    {
        var gate = new Gate();
        var failure = new InvalidOperationException("card declined");
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            throw failure;
        });

        var calls = Enumerable.Range(0, 10).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 9, "nine callers joined");
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();

        Assert.All(outcomes, o => Assert.Equal(JobStatus.Failed, o.Status));
        Assert.All(outcomes, o => Assert.Same(failure, o.Exception));
        Assert.Same(failure, Assert.Throws<InvalidOperationException>(() => outcomes[3].GetValueOrThrow()));
        Assert.Equal(1, dedup.GetStats().Errors);
    }

    [Fact]
    public async Task EnqueueAsync_HandlerThrowsBeforeReturningATask_WaiterGetsTheException()
    {
        await using var dedup = Dedup.Create((job, _, _) => throw new FormatException("bad job"));

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.IsType<FormatException>(outcome.Exception);
        Assert.Equal(JobRole.Leader, outcome.Role);
    }

    [Fact]
    public async Task EnqueueAsync_HandlerNeverCompletesAndIgnoresItsToken_AttemptTimeoutFailsEveryWaiter()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<string>();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                started.TrySetResult();
                return new ValueTask<string>(never.Task);
            },
            o =>
            {
                o.AttemptTimeout = TimeSpan.FromSeconds(5);
                o.ShutdownTimeout = TimeSpan.Zero;
            },
            time);

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await started.Task.Within();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "second caller joined");
        Assert.False(first.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(5));
        var outcomes = await Task.WhenAll(first, second).Within();

        Assert.All(outcomes, o => Assert.Equal(JobStatus.Failed, o.Status));
        Assert.All(outcomes, o => Assert.IsType<HandlerStuckException>(o.Exception));
        Assert.All(outcomes, o => Assert.IsAssignableFrom<TimeoutRejectedException>(o.Exception));

        // The handler never ended, so its key stays held: a later caller does not start a second run beside it,
        // and is told so once it has waited one attempt timeout.
        Assert.Equal(1, dedup.GetStats().Active);
        var later = dedup.EnqueueAsync(new Job("k", "3")).AsTask();
        Assert.False(later.IsCompleted);
        await Watchdog.Until(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return later.IsCompleted;
            },
            "the later caller is told the key is stuck after one attempt timeout");
        var refused = await later.Within();
        Assert.Equal(JobStatus.Failed, refused.Status);
        Assert.IsType<HandlerStuckException>(refused.Exception);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task EnqueueAsync_HandlerReturnsCanceledTaskOnItsOwn_IsAFailureNotARetry()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromCanceled<string>(new CancellationToken(canceled: true));
            },
            o => o.MaxRetryAttempts = 3);

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(1, runs);
        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.IsAssignableFrom<OperationCanceledException>(outcome.Exception);
    }

    [Fact]
    public async Task EnqueueAsync_FailsTwiceThenSucceeds_RetriesStayInsideTheFlight()
    {
        var attempts = new List<int>();
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, context, ct) =>
            {
                lock (attempts)
                {
                    attempts.Add(context.Attempt);
                }

                if (context.Attempt == 1)
                {
                    await gate.WaitAsync(ct);
                }

                return context.Attempt < 3 ? throw new TimeoutException("upstream slow") : "paid";
            },
            o => o.MaxRetryAttempts = 2);

        var calls = Enumerable.Range(0, 5).Select(_ => dedup.EnqueueAsync(new Job("k", "x")).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == 4, "four callers joined");
        gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();

        Assert.Equal([1, 2, 3], attempts);
        Assert.All(outcomes, o => Assert.Equal("paid", o.Value));
        Assert.All(outcomes, o => Assert.Equal(3, o.Attempts));
        var stats = dedup.GetStats();
        Assert.Equal(2, stats.Retries);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(0, stats.Errors);
    }

    [Fact]
    public async Task EnqueueAsync_AfterFinalFailure_NextArrivalStartsAFreshFlight()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) <= 2
                ? throw new InvalidOperationException("down")
                : ValueTask.FromResult("up"),
            o => o.MaxRetryAttempts = 1);

        var failed = await dedup.EnqueueAsync(new Job("k", "x")).Within();
        var fresh = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(2, failed.Attempts);
        Assert.Equal(JobStatus.Succeeded, fresh.Status);
        Assert.Equal(JobRole.Leader, fresh.Role);
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task EnqueueAsync_RetryDelay_WaitsOnTheInjectedClock()
    {
        var time = new TimerCountingTimeProvider();
        var attempts = 0;
        await using var dedup = Dedup.Create(
            (job, context, _) =>
            {
                Interlocked.Exchange(ref attempts, context.Attempt);
                return context.Attempt == 1 ? throw new InvalidOperationException("once") : ValueTask.FromResult("ok");
            },
            o =>
            {
                o.MaxRetryAttempts = 1;
                o.RetryDelay = TimeSpan.FromMinutes(1);
                o.RetryMaxDelay = TimeSpan.FromMinutes(1);
            },
            time);

        var call = dedup.EnqueueAsync(new Job("k", "x")).AsTask();
        await Watchdog.Until(() => Volatile.Read(ref attempts) == 1 && time.PendingTimers > 0, "first attempt failed and the retry waits");
        Assert.False(call.IsCompleted);

        time.Advance(TimeSpan.FromMinutes(1));
        var outcome = await call.Within();

        Assert.Equal("ok", outcome.Value);
        Assert.Equal(2, outcome.Attempts);
    }

    [Fact]
    public async Task EnqueueAsync_ShouldRetrySaysNo_FailsAfterOneAttempt()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new ArgumentException("permanent");
            },
            o =>
            {
                o.MaxRetryAttempts = 3;
                o.ShouldRetry = ex => ex is not ArgumentException;
            });

        var outcome = await dedup.EnqueueAsync(new Job("k", "x")).Within();

        Assert.Equal(JobStatus.Failed, outcome.Status);
        Assert.Equal(1, outcome.Attempts);
        Assert.Equal(1, runs);
    }

    // An exception never escapes the dispatcher loop. Both catch blocks log first; if logging throws (a
    // Microsoft.Extensions.Logging Logger rethrows a provider's failure as AggregateException), the exception leaves
    // the loop, the dispatcher task faults, and every queued and later caller hangs.
    [Fact]
    public async Task Dispatcher_LoggingThrowsWhileReportingAFailure_LoopGoesOnAndTheCallerGetsAnOutcome()
    {
        await using var dedup = new JobDeduplicator<Job, string>(
            (job, _, _) => job.Key == "fails" ? throw new InvalidOperationException("handler failed") : ValueTask.FromResult(job.Key),
            new JobDedupOptions<Job>
            {
                Name = "throwing-logger",
                KeySelector = j => j.Key,
                MaxRetryAttempts = 0,
                DedupeWindow = TimeSpan.FromMinutes(1),
                ShutdownTimeout = TimeSpan.Zero,
            },
            new ThrowingLoggerFactory(),
            outcomeStore: LookupThrowsFor("poison"));

        var poisoned = dedup.EnqueueAsync(new Job("poison", "x")).AsTask();
        var failing = dedup.EnqueueAsync(new Job("fails", "x")).AsTask();
        var healthy = dedup.EnqueueAsync(new Job("fine", "x")).AsTask();

        // Had the loop died, the healthy job behind the poisoned one, and every later one, would hang.
        Assert.Equal("fine", (await healthy.Within()).Value);
        Assert.Equal(JobStatus.Unavailable, (await poisoned.Within()).Status); // the store failed: not the handler's failure
        Assert.Equal(JobStatus.Failed, (await failing.Within()).Status); // reported through the logger that throws
        Assert.Equal("later", (await dedup.EnqueueAsync(new Job("later", "x")).Within()).Value);
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
