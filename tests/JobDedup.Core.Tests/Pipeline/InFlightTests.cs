using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class InFlightTests
{
    [Fact]
    public async Task GetInFlight_NothingRunning_IsEmpty()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult(job.Key));

        var snapshot = dedup.GetInFlight(hottest: 5);

        Assert.Equal(0, snapshot.Count);
        Assert.Equal(TimeSpan.Zero, snapshot.OldestAge);
        Assert.Empty(snapshot.Hottest);
    }

    [Fact]
    public async Task GetInFlight_HeldFlights_CountsThemAndAgesTheOldestByTheClock()
    {
        var time = new FakeTimeProvider();
        var held = new HeldRuns();
        await using var dedup = held.Create(time);

        var first = dedup.EnqueueAsync(new Job("a", "x")).AsTask();
        await Watchdog.Until(() => held.Running == 1, "the first handler running");
        time.Advance(TimeSpan.FromSeconds(5));
        var second = dedup.EnqueueAsync(new Job("b", "x")).AsTask();
        await Watchdog.Until(() => held.Running == 2, "the second handler running");
        time.Advance(TimeSpan.FromSeconds(2));

        var snapshot = dedup.GetInFlight();

        Assert.Equal(2, snapshot.Count);
        Assert.Equal(TimeSpan.FromSeconds(7), snapshot.OldestAge);
        Assert.Empty(snapshot.Hottest);
        held.Gate.Open();
        await Task.WhenAll(first, second).Within();
        Assert.Equal(InFlightSnapshot.Empty, dedup.GetInFlight(hottest: 3));
    }

    [Fact]
    public async Task GetInFlight_Hottest_ListsTheKeysWithTheMostCallersFirst()
    {
        var time = new FakeTimeProvider();
        var held = new HeldRuns();
        await using var dedup = held.Create(time);
        var callers = new Dictionary<string, int> { ["one"] = 1, ["three"] = 3, ["two"] = 2, ["four"] = 4 };
        var calls = new List<Task<JobOutcome<string>>>();
        foreach (var (key, count) in callers)
        {
            for (var i = 0; i < count; i++)
            {
                calls.Add(dedup.EnqueueAsync(new Job(key, $"p{i}")).AsTask());
            }
        }

        await Watchdog.Until(() => held.Running == 4 && dedup.GetStats().Hits == 6, "four handlers running, six callers joined");
        time.Advance(TimeSpan.FromSeconds(3));

        var snapshot = dedup.GetInFlight(hottest: 2);

        Assert.Equal(4, snapshot.Count);
        Assert.Equal(
            [new InFlightKey("four", TimeSpan.FromSeconds(3), 4), new InFlightKey("three", TimeSpan.FromSeconds(3), 3)],
            snapshot.Hottest);
        Assert.Equal(["four", "three", "two", "one"], dedup.GetInFlight(hottest: 10).Hottest.Select(k => k.Key));
        held.Gate.Open();
        var outcomes = await Task.WhenAll(calls).Within();
        Assert.All(outcomes, o => Assert.Equal(JobStatus.Succeeded, o.Status));
    }

    [Fact]
    public async Task GetInFlight_NegativeHottest_Throws()
    {
        await using var dedup = Dedup.Create((job, _, _) => ValueTask.FromResult(job.Key));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => dedup.GetInFlight(-1));

        Assert.Equal("hottest", error.ParamName);
    }

    /// <summary>A deduplicator whose handlers count themselves and wait at one gate.</summary>
    private sealed class HeldRuns
    {
        private int _running;

        public Gate Gate { get; } = new();

        public int Running => Volatile.Read(ref _running);

        public JobDeduplicator<Job, string> Create(TimeProvider time) => Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref _running);
                await Gate.WaitAsync(ct);
                return job.Key;
            },
            timeProvider: time);
    }
}
