using System.Collections.Concurrent;
using JobDedup.Core.Tests.Support;
using JobDedup.Resilience;

namespace JobDedup.Core.Tests.Resilience;

/// <summary>The outcome store's circuit breaker: an outage of the store pauses the jobs that need it, never fails them.</summary>
public sealed class StoreBreakerTests
{
    private const int OpenedEvent = 1016;
    private const int HalfOpenedEvent = 1017;
    private const int ClosedEvent = 1018;
    private const int StillOpenEvent = 1023;
    private const int FlightFailedEvent = 1002;

    [Fact]
    public async Task EnqueueAsync_StoreFailsPastTheThreshold_BreakerOpensAndTheHandlerNeverRuns()
    {
        var (time, store, logs) = StoreThatFailsFiveClaims();
        var runs = 0;
        await using var dedup = OnStore(store, time, logs, () => Interlocked.Increment(ref runs));
        var states = Record(dedup);

        var outcomes = new List<JobOutcome<string>>();
        for (var i = 0; i < 10; i++)
        {
            outcomes.Add(await dedup.EnqueueAsync(new Job($"k{i}", "x")).Within());
        }

        Assert.All(outcomes, o => Assert.Equal(JobStatus.Unavailable, o.Status));
        var exceptions = outcomes.Select(o => Assert.IsType<OutcomeStoreUnavailableException>(o.Exception)).ToList();
        Assert.All(exceptions.Take(5), e => Assert.False(e.IsCircuitOpen));
        Assert.All(exceptions.Take(5), e => Assert.IsType<TimeoutException>(e.InnerException));
        Assert.All(exceptions.Skip(5), e => Assert.True(e.IsCircuitOpen));
        Assert.Equal(0, runs);
        Assert.Equal(5, store.CountOf(StoreOperation.TryClaim)); // the last five never reached the store
        Assert.Equal(OutcomeStoreState.Unavailable, dedup.StoreState);
        Assert.Equal([OutcomeStoreState.Unavailable], states);
        var stats = dedup.GetStats();
        Assert.Equal((0L, 0L), (stats.Errors, stats.Misses));
        Assert.Equal(1, logs.Count(OpenedEvent));
        Assert.Equal(0, logs.Count(FlightFailedEvent));
        Assert.Throws<OutcomeStoreUnavailableException>(() => outcomes[9].GetValueOrThrow());
    }

    [Fact]
    public async Task Breaker_StoreAnswersAgain_ClosesByItsOwnTrialCallAndJobsRunAgain()
    {
        var (time, store, logs) = StoreThatFailsFiveClaims();
        var runs = 0;
        await using var dedup = OnStore(store, time, logs, () => Interlocked.Increment(ref runs));
        var states = Record(dedup);
        for (var i = 0; i < 5; i++)
        {
            await dedup.EnqueueAsync(new Job($"k{i}", "x")).Within();
        }

        Assert.Equal(OutcomeStoreState.Unavailable, dedup.StoreState);

        // No job arrives (a transport paused its intake): the breaker tests the store by itself after the break.
        await Watchdog.Until(() => time.PendingTimers > 0, "the trial call is scheduled");
        time.Advance(TimeSpan.FromSeconds(5));
        await Watchdog.Until(() => dedup.StoreState == OutcomeStoreState.Available, "the store is available again");

        Assert.Equal([OutcomeStoreState.Unavailable, OutcomeStoreState.Recovering, OutcomeStoreState.Available], states);
        Assert.Equal((1, 1, 1), (logs.Count(OpenedEvent), logs.Count(HalfOpenedEvent), logs.Count(ClosedEvent)));
        Assert.Equal(1, store.CountOf(StoreOperation.TryGet, StoreBreaker.ProbeKey));
        var after = await dedup.EnqueueAsync(new Job("k0", "x")).Within();
        Assert.Equal(JobStatus.Succeeded, after.Status);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task Breaker_TrialCallFails_OpensAgainAndTriesAfterTheNextBreak()
    {
        var (time, store, logs) = StoreThatFailsFiveClaims();
        store.Throw(StoreOperation.TryGet, new TimeoutException("still unreachable"), StoreBreaker.ProbeKey, times: 1);
        await using var dedup = OnStore(store, time, logs, () => { });
        var states = Record(dedup);
        for (var i = 0; i < 5; i++)
        {
            await dedup.EnqueueAsync(new Job($"k{i}", "x")).Within();
        }

        await Watchdog.Until(() => time.PendingTimers > 0, "the first trial call is scheduled");
        time.Advance(TimeSpan.FromSeconds(5));
        await Watchdog.Until(() => states.Count == 3, "the first trial call failed");
        Assert.Equal(OutcomeStoreState.Unavailable, dedup.StoreState);

        await Watchdog.Until(() => time.PendingTimers > 0, "the second trial call is scheduled");
        time.Advance(TimeSpan.FromSeconds(5));
        await Watchdog.Until(() => dedup.StoreState == OutcomeStoreState.Available, "the store is available again");

        Assert.Equal(
            [OutcomeStoreState.Unavailable, OutcomeStoreState.Recovering, OutcomeStoreState.Unavailable, OutcomeStoreState.Recovering, OutcomeStoreState.Available],
            states);
        Assert.Equal((1, 1, 2, 1), (logs.Count(OpenedEvent), logs.Count(StillOpenEvent), logs.Count(HalfOpenedEvent), logs.Count(ClosedEvent)));
    }

    [Fact]
    public async Task EnqueueAsync_HandlerFailsOften_BreakerStaysClosed()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var logs = new LogSink();
        await using var dedup = Dedup.Create(
            (_, _, _) => throw new InvalidOperationException("the payment provider said no"),
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            time,
            store,
            logs);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(JobStatus.Failed, (await dedup.EnqueueAsync(new Job($"k{i}", "x")).Within()).Status);
        }

        Assert.Equal(OutcomeStoreState.Available, dedup.StoreState);
        Assert.Equal(10, dedup.GetStats().Errors);
        Assert.Equal(0, logs.Count(OpenedEvent));
    }

    [Fact]
    public async Task EnqueueAsync_PlainStoreLookupFails_UnavailableWithoutARun()
    {
        var store = new ScriptableOutcomeStore<string>();
        store.Fault(StoreOperation.TryGet, new TimeoutException("store unreachable"), "k", times: 1);
        var runs = 0;
        await using var dedup = Dedup.Create(
            (_, _, _) => ValueTask.FromResult($"run-{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            store: store.AsPlainStore());

        var unavailable = await dedup.EnqueueAsync(new Job("k", "1")).Within();
        var later = await dedup.EnqueueAsync(new Job("k", "2")).Within();

        Assert.Equal(JobStatus.Unavailable, unavailable.Status);
        Assert.IsType<TimeoutException>(Assert.IsType<OutcomeStoreUnavailableException>(unavailable.Exception).InnerException);
        Assert.Equal("run-1", later.Value);
        Assert.Equal(0, dedup.GetStats().Errors);
    }

    [Fact]
    public async Task StoreState_WithoutAStoreOfTheCaller_IsAlwaysAvailable()
    {
        await using var dedup = Dedup.Create((_, _, _) => ValueTask.FromResult("v"), o => o.DedupeWindow = TimeSpan.FromHours(1));

        Assert.Equal("v", (await dedup.EnqueueAsync(new Job("k", "x")).Within()).Value);
        Assert.Equal(OutcomeStoreState.Available, dedup.StoreState);
    }

    [Theory]
    [InlineData(nameof(JobDedupOptions<Job>.StoreFailureRatio))]
    [InlineData(nameof(JobDedupOptions<Job>.StoreMinimumThroughput))]
    [InlineData(nameof(JobDedupOptions<Job>.StoreSamplingDuration))]
    [InlineData(nameof(JobDedupOptions<Job>.StoreBreakDuration))]
    public void Options_StoreBreakerSettingOutOfRange_FailsNamingIt(string setting)
    {
        var options = new JobDedupOptions<Job>();
        switch (setting)
        {
            case nameof(options.StoreFailureRatio):
                options.StoreFailureRatio = 0;
                break;
            case nameof(options.StoreMinimumThroughput):
                options.StoreMinimumThroughput = 1;
                break;
            case nameof(options.StoreSamplingDuration):
                options.StoreSamplingDuration = TimeSpan.FromMilliseconds(100);
                break;
            default:
                options.StoreBreakDuration = TimeSpan.Zero;
                break;
        }

        var error = Assert.Single(options.Validate());
        Assert.StartsWith(setting, error);
        var thrown = Assert.Throws<ArgumentException>(() => new JobDeduplicator<Job, string>((_, _, _) => ValueTask.FromResult("v"), options));
        Assert.Contains(setting, thrown.Message);
    }

    [Fact]
    public void Options_StoreBreakerDefaults_AreValid()
    {
        var options = new JobDedupOptions<Job>();

        Assert.Equal((0.5, 5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)),
            (options.StoreFailureRatio, options.StoreMinimumThroughput, options.StoreSamplingDuration, options.StoreBreakDuration));
        Assert.Empty(options.Validate());
    }

    /// <summary>A claiming store whose first five claims fail: enough, with the defaults, to open the breaker.</summary>
    private static (TimerCountingTimeProvider Time, ScriptableOutcomeStore<string> Store, LogSink Logs) StoreThatFailsFiveClaims()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.TryClaim, new TimeoutException("store unreachable"), times: 5);
        return (time, store, new LogSink());
    }

    private static JobDeduplicator<Job, string> OnStore(ScriptableOutcomeStore<string> store, TimeProvider time, LogSink logs, Action onRun) =>
        Dedup.Create(
            (job, _, _) =>
            {
                onRun();
                return ValueTask.FromResult("done " + job.Key);
            },
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            time,
            store,
            logs);

    private static ConcurrentQueue<OutcomeStoreState> Record(IOutcomeStoreMonitor monitor)
    {
        var states = new ConcurrentQueue<OutcomeStoreState>();
        monitor.StoreStateChanged += (_, state) => states.Enqueue(state);
        return states;
    }
}
