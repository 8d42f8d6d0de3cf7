using System.Runtime.CompilerServices;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class DedupeWindowTests
{
    [Fact]
    public async Task EnqueueAsync_InsideTheWindow_ReplaysWithoutARun()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"charge-{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(24),
            time);

        var first = await dedup.EnqueueAsync(new Job("evt_1", "a")).Within();
        time.Advance(TimeSpan.FromHours(23));
        var late = await dedup.EnqueueAsync(new Job("evt_1", "b")).Within();

        Assert.Equal("charge-1", first.Value);
        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal("charge-1", late.Value);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.True(late.IsShared);
        Assert.Equal(1, runs);
        Assert.Equal(1, dedup.GetStats().Hits);
    }

    [Fact]
    public async Task EnqueueAsync_AfterTheWindow_RunsAgain()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"charge-{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromMinutes(10),
            time);

        await dedup.EnqueueAsync(new Job("evt_1", "a")).Within();
        time.Advance(TimeSpan.FromMinutes(10));
        var after = await dedup.EnqueueAsync(new Job("evt_1", "b")).Within();

        Assert.Equal("charge-2", after.Value);
        Assert.Equal(JobRole.Leader, after.Role);
    }

    [Fact]
    public async Task EnqueueAsync_FailedOutcome_IsNeverKept()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1
                ? throw new InvalidOperationException("declined")
                : ValueTask.FromResult("ok"),
            o => o.DedupeWindow = TimeSpan.FromHours(1));

        var failed = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var retried = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("ok", retried.Value);
        Assert.Equal(JobRole.Leader, retried.Role);
    }

    [Fact]
    public async Task EnqueueAsync_MoreOutcomesThanTheWindowHolds_EvictsTheOldest()
    {
        var store = new MemoryOutcomeStore<string>(capacity: 3);
        var runs = new List<string>();
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                lock (runs)
                {
                    runs.Add(job.Key);
                }

                return ValueTask.FromResult(job.Key);
            },
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            store: store);

        foreach (var key in new[] { "a", "b", "c", "d" })
        {
            await dedup.EnqueueAsync(new Job(key, "x")).Within();
        }

        Assert.Equal(3, store.Count);
        Assert.Equal(JobRole.Replayed, (await dedup.EnqueueAsync(new Job("d", "y")).Within()).Role);
        Assert.Equal(JobRole.Replayed, (await dedup.EnqueueAsync(new Job("b", "y")).Within()).Role);
        Assert.Equal(JobRole.Leader, (await dedup.EnqueueAsync(new Job("a", "y")).Within()).Role);
        Assert.Equal(["a", "b", "c", "d", "a"], runs);
    }

    [Fact]
    public async Task EnqueueAsync_DefaultWindowUsesMaxRetainedOutcomes()
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"{Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.MaxRetainedOutcomes = 2;
            });

        await dedup.EnqueueAsync(new Job("a", "x")).Within();
        await dedup.EnqueueAsync(new Job("b", "x")).Within();
        await dedup.EnqueueAsync(new Job("c", "x")).Within();
        var a = await dedup.EnqueueAsync(new Job("a", "x")).Within();

        Assert.Equal(JobRole.Leader, a.Role);
        Assert.Equal(4, runs);
    }

    [Fact]
    public async Task EnqueueAsync_StoreAnswersLater_CallersArrivingMeanwhileShareTheReplay()
    {
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Hold(StoreOperation.TryGet, "k");
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            store: store.AsPlainStore());

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        var second = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "second caller joined the lookup");
        await store.SeedAsync("test", "k", new StoredOutcome<string>("from-store", 1, DateTimeOffset.UnixEpoch), TimeSpan.FromHours(1));
        lookup.Open();

        var outcomes = await Task.WhenAll(first, second).Within();
        Assert.All(outcomes, o => Assert.Equal("from-store", o.Value));
        Assert.All(outcomes, o => Assert.Equal(JobRole.Replayed, o.Role));
        Assert.Equal(0, runs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EnqueueAsync_StoreFailsToSaveTheOutcome_CallerStillGetsTheValueAndOnlyTheWindowIsLost(bool synchronously)
    {
        var store = new ScriptableOutcomeStore<string>();
        var failure = new TimeoutException("store unreachable");
        if (synchronously)
        {
            store.Throw(StoreOperation.Save, failure, "k", times: 1);
        }
        else
        {
            store.Fault(StoreOperation.Save, failure, "k", times: 1);
        }

        var runs = new RunTracker();
        await using var dedup = TrackedRuns.WithWindow(runs, store.AsPlainStore());

        var first = await dedup.EnqueueAsync(new Job("k", "1")).Within();
        var second = await dedup.EnqueueAsync(new Job("k", "2")).Within();
        var third = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        Assert.Equal((JobRole.Leader, "run-1"), (first.Role, first.Value));
        Assert.Equal((JobRole.Leader, "run-2"), (second.Role, second.Value)); // nothing was kept, so it ran again
        Assert.Equal((JobRole.Replayed, "run-2"), (third.Role, third.Value));
        Assert.Equal(2, store.CountOf(StoreOperation.Save, "k"));
    }

    [Fact]
    public async Task EnqueueAsync_StoreLookupFails_CallersGetUnavailableAndTheHandlerDoesNotRun()
    {
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Hold(StoreOperation.TryGet, "k");
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"{Interlocked.Increment(ref runs)}"),
            o => o.DedupeWindow = TimeSpan.FromHours(1),
            store: store.AsPlainStore());

        var call = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        lookup.Fail(new TimeoutException("store unreachable"));

        var outcome = await call.Within();
        Assert.Equal(JobStatus.Unavailable, outcome.Status);
        Assert.IsType<TimeoutException>(Assert.IsType<OutcomeStoreUnavailableException>(outcome.Exception).InnerException);
        Assert.Equal(0, runs);
    }

    // A flight canceled while it waits for an asynchronous store lookup
    // must still observe the lookup: when it later fails, its exception may not go unobserved.
    [Fact]
    public void EnqueueAsync_FlightAbandonedDuringAsyncStoreLookup_LookupFailureIsObserved()
    {
        var marker = $"lookup-{Guid.NewGuid():N}";
        Assert.Equal(0, UnobservedExceptions.Count(marker, () => LookupAbandonedThenFails(marker)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task LookupAbandonedThenFails(string marker)
    {
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Hold(StoreOperation.TryGet, "k");
        var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("never"),
            o => o.DedupeWindow = TimeSpan.FromHours(1),
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
}
