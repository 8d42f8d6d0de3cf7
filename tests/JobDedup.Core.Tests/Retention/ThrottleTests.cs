using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Retention;

/// <summary>Throttle: after a run ends, repeats within its window get its outcome without a run; in flight they join.</summary>
public sealed class ThrottleTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task RepeatWithinTheWindow_GetsTheSuccessWithoutARun_AndAfterItRunsAgain()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o => o.OnDuplicate = DuplicatePolicy.Throttle(Window),
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(Window - TimeSpan.FromMilliseconds(1));
        var inside = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromMilliseconds(1));
        var after = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal("run 1", inside.Value);
        Assert.Equal(JobRole.Replayed, inside.Role);
        Assert.Equal("run 2", after.Value);
        Assert.Equal(JobRole.Leader, after.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task FailureWithoutIncludeFailures_IsNotThrottled()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("down") : ValueTask.FromResult("up"),
            o => o.OnDuplicate = DuplicatePolicy.Throttle(Window),
            time);

        Assert.Equal(JobStatus.Failed, (await dedup.EnqueueAsync(new Job("k", "a")).Within()).Status);
        var again = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal("up", again.Value);
        Assert.Equal(JobRole.Leader, again.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task FailureWithIncludeFailures_IsGivenToRepeatsWithinTheWindow_ThenExpires()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("down") : ValueTask.FromResult("up"),
            o => o.OnDuplicate = DuplicatePolicy.Throttle(Window, includeFailures: true),
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromSeconds(30));
        var inside = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromSeconds(30));
        var after = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal(JobStatus.Failed, inside.Status);
        Assert.Equal(JobRole.Replayed, inside.Role);
        Assert.Equal(typeof(InvalidOperationException).FullName, Assert.IsType<ReplayedFailureException>(inside.Exception).OriginalType);
        Assert.Equal("up", after.Value);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task DuplicatesInFlight_Join()
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "done";
            },
            o => o.OnDuplicate = DuplicatePolicy.Throttle(Window));

        var leader = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        await gate.Reached.Within();
        var joined = dedup.EnqueueAsync(new Job("k", "b")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the duplicate joins");
        gate.Open();

        Assert.Equal(JobRole.Leader, (await leader.Within()).Role);
        Assert.Equal(JobRole.Joined, (await joined.Within()).Role);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ALongerDedupeWindow_KeepsTheSuccessLongerThanTheThrottle()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromMinutes(10);
                o.OnDuplicate = DuplicatePolicy.Throttle(Window);
            },
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromMinutes(5));
        var later = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal(JobRole.Replayed, later.Role);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task AShorterClassifierAnswer_IsRaisedToTheThrottleWindow()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.Retention = _ => TimeSpan.FromSeconds(5);
                o.OnDuplicate = DuplicatePolicy.Throttle(Window);
            },
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromSeconds(30));
        var inside = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromSeconds(30));
        var after = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal(JobRole.Replayed, inside.Role);
        Assert.Equal(JobRole.Leader, after.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task ClaimingStore_ThrottledFailure_IsCompletedIntoTheStoreForTheWindow()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        await using var dedup = Dedup.Create(
            (job, _, _) => throw new InvalidOperationException("down"),
            o => o.OnDuplicate = DuplicatePolicy.Throttle(Window, includeFailures: true),
            time,
            store);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var inside = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(Window);
        var kept = await store.TryGetAsync("test", "k", default);

        Assert.Equal(1, store.CountOf(StoreOperation.Complete));
        Assert.Equal(JobRole.Replayed, inside.Role);
        Assert.Null(kept);
    }
}
