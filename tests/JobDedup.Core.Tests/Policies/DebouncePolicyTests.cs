using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

public sealed class DebouncePolicyTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Debounce_KeyQuietForTheDelay_StartsTheRunThen()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1));
        await using var dedup = scenario.Create();

        var call = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        scenario.Time.Advance(Delay - TimeSpan.FromSeconds(1));
        Assert.Empty(scenario.Started);
        scenario.Time.Advance(TimeSpan.FromSeconds(1));

        var outcome = await call.Within();
        Assert.Equal("ran-a", outcome.Value);
        Assert.Equal([(Delay, "a")], scenario.Started);
    }

    [Fact]
    public async Task Debounce_ArrivalsPushTheStartBack_TheLatestPayloadRunsOnceAndEveryCallerGetsItsOutcome()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1));
        await using var dedup = scenario.Create();

        var a = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        scenario.Time.Advance(TimeSpan.FromSeconds(6));
        var b = dedup.EnqueueAsync(new Job("k", "b")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "b joined and pushed the start to 16 s");
        scenario.Time.Advance(TimeSpan.FromSeconds(6)); // 12 s: past the first due time, not the second
        Assert.Empty(scenario.Started);
        var c = dedup.EnqueueAsync(new Job("k", "c")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "c joined and pushed the start to 22 s");
        scenario.Time.Advance(TimeSpan.FromSeconds(9)); // 21 s
        Assert.Empty(scenario.Started);
        scenario.Time.Advance(TimeSpan.FromSeconds(1)); // 22 s

        var outcomes = await Task.WhenAll(a, b, c).Within();
        Assert.All(outcomes, o => Assert.Equal("ran-c", o.Value));
        Assert.Equal(JobRole.Leader, outcomes[0].Role);
        Assert.Equal([(TimeSpan.FromSeconds(22), "c")], scenario.Started);
    }

    [Fact]
    public async Task Debounce_ArrivalsNeverQuiet_MaxWaitAfterTheFirstArrivalStartsTheRun()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromSeconds(25));
        await using var dedup = scenario.Create();

        var calls = new List<Task<JobOutcome<string>>> { dedup.EnqueueAsync(new Job("k", "p0")).AsTask() };
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        for (var i = 1; i <= 3; i++)
        {
            scenario.Time.Advance(TimeSpan.FromSeconds(8));
            calls.Add(dedup.EnqueueAsync(new Job("k", $"p{i}")).AsTask());
            var joined = i;
            await Watchdog.Until(() => dedup.GetStats().Hits == joined, $"arrival {joined} joined");
        }

        // 24 s: the last arrival would push the start to 34 s, but the maximum wait ends at 25 s.
        Assert.Empty(scenario.Started);
        scenario.Time.Advance(TimeSpan.FromSeconds(1));

        var outcomes = await Task.WhenAll(calls).Within();
        Assert.All(outcomes, o => Assert.Equal("ran-p3", o.Value));
        Assert.Equal([(TimeSpan.FromSeconds(25), "p3")], scenario.Started);
    }

    [Fact]
    public async Task Debounce_ArrivalAfterTheHandlerStarted_JoinsThatRun()
    {
        var gate = new Gate();
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1), gate);
        await using var dedup = scenario.Create();

        var first = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        scenario.Time.Advance(Delay);
        await gate.Reached.Within();
        var late = dedup.EnqueueAsync(new Job("k", "b")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the late caller joined");
        gate.Open();

        Assert.Equal("ran-a", (await first.Within()).Value);
        var joined = await late.Within();
        Assert.Equal("ran-a", joined.Value);
        Assert.Equal(JobRole.Joined, joined.Role);
        Assert.Single(scenario.Started);
    }

    [Fact]
    public async Task Debounce_OneCallerCancelsDuringTheWait_OnlyThatCallerLeavesAndTheRunStartsOnTime()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1));
        await using var dedup = scenario.Create();

        using var leaving = new CancellationTokenSource();
        var a = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        scenario.Time.Advance(TimeSpan.FromSeconds(2));
        var b = dedup.EnqueueAsync(new Job("k", "b"), leaving.Token).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "b joined");
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await b.Within()).Status);
        scenario.Time.Advance(TimeSpan.FromSeconds(10)); // 12 s: quiet since b's arrival at 2 s

        var outcome = await a.Within();
        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        Assert.Equal("ran-b", outcome.Value); // the latest payload stays, whoever left
        Assert.Equal([(TimeSpan.FromSeconds(12), "b")], scenario.Started);
    }

    [Fact]
    public async Task Debounce_EveryCallerLeavesDuringTheWait_TheFlightIsAbandonedWithoutARunAndTheKeyIsFree()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1));
        await using var dedup = scenario.Create();

        using var leaving = new CancellationTokenSource();
        var a = dedup.EnqueueAsync(new Job("k", "a"), leaving.Token).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "the flight exists");
        await leaving.CancelAsync();
        Assert.Equal(JobStatus.Canceled, (await a.Within()).Status);
        await Watchdog.Until(() => dedup.GetInFlight().Count == 0, "the abandoned flight gave its key up");
        scenario.Time.Advance(Delay);
        Assert.Empty(scenario.Started);

        var again = dedup.EnqueueAsync(new Job("k", "b")).AsTask();
        await Watchdog.Until(() => dedup.GetInFlight().Count == 1, "a fresh flight exists");
        scenario.Time.Advance(Delay);
        Assert.Equal("ran-b", (await again.Within()).Value);
        Assert.Equal([(Delay * 2, "b")], scenario.Started);
    }

    [Fact]
    public async Task Debounce_StopDuringTheWait_CancelsEveryCallerWithoutARun()
    {
        var scenario = new DebouncedRuns(maxWait: TimeSpan.FromMinutes(1));
        var dedup = scenario.Create();

        var a = dedup.EnqueueAsync(new Job("k", "a")).AsTask();
        var b = dedup.EnqueueAsync(new Job("k", "b")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "b joined the debounced flight");
        await dedup.StopAsync().Within();

        Assert.Equal(JobStatus.Canceled, (await a.Within()).Status);
        Assert.Equal(JobStatus.Canceled, (await b.Within()).Status);
        scenario.Time.Advance(Delay);
        Assert.Empty(scenario.Started);
    }

    /// <summary>A debounced deduplicator on a fake clock that records when (since the start) each run began, and with what.</summary>
    private sealed class DebouncedRuns(TimeSpan maxWait, Gate? gate = null)
    {
        private readonly List<(TimeSpan At, string Payload)> _started = [];
        private readonly DateTimeOffset _origin = DateTimeOffset.UnixEpoch.AddYears(56);

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UnixEpoch.AddYears(56));

        public IReadOnlyList<(TimeSpan At, string Payload)> Started
        {
            get
            {
                lock (_started)
                {
                    return [.. _started];
                }
            }
        }

        public JobDeduplicator<Job, string> Create() =>
            Dedup.Create(
                async (job, _, ct) =>
                {
                    lock (_started)
                    {
                        _started.Add((Time.GetUtcNow() - _origin, job.Payload));
                    }

                    if (gate is not null)
                    {
                        await gate.WaitAsync(ct);
                    }

                    return "ran-" + job.Payload;
                },
                o => o.OnDuplicate = DuplicatePolicy.Debounce(Delay, maxWait),
                Time);
    }
}
