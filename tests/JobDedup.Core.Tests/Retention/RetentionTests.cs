using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Retention;

/// <summary>Retention by outcome class: the classifier decides what the dedupe window keeps, failures included.</summary>
public sealed class RetentionTests
{
    private static readonly TimeSpan KeepFailures = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task KeptFailure_IsReplayedToADuplicate_AsAReplayedFailureWithTheOriginalAttempts()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new InvalidOperationException("card declined");
            },
            o =>
            {
                o.MaxRetryAttempts = 2;
                o.Retention = context => context.Status == JobStatus.Failed ? KeepFailures : context.DedupeWindow;
            },
            time);

        var original = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var replayed = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal(JobStatus.Failed, original.Status);
        Assert.Equal(3, original.Attempts);
        Assert.Equal(JobStatus.Failed, replayed.Status);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal(3, replayed.Attempts);
        var failure = Assert.IsType<ReplayedFailureException>(replayed.Exception);
        Assert.Equal(typeof(InvalidOperationException).FullName, failure.OriginalType);
        Assert.Equal("card declined", failure.Message);
        Assert.Equal(3, runs);
        Assert.Equal(1, dedup.GetStats().Hits);
    }

    [Fact]
    public async Task KeptFailure_ExpiresAfterItsRetention_ThenTheKeyRunsAgain()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("declined") : ValueTask.FromResult("paid"),
            o => o.Retention = context => context.Status == JobStatus.Failed ? KeepFailures : null,
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(KeepFailures - TimeSpan.FromSeconds(1));
        var inside = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        time.Advance(TimeSpan.FromSeconds(1));
        var after = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal(JobRole.Replayed, inside.Role);
        Assert.Equal(JobStatus.Failed, inside.Status);
        Assert.Equal("paid", after.Value);
        Assert.Equal(JobRole.Leader, after.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task Classifier_SeesTheOutcome_AndDecidesPerClass()
    {
        var time = new FakeTimeProvider();
        var seen = new List<OutcomeRetentionContext>();
        await using var dedup = Dedup.Create(
            (job, _, _) => job.Payload == "bad" ? throw new ArgumentException("bad amount") : ValueTask.FromResult("ok " + job.Key),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Retention = context =>
                {
                    lock (seen)
                    {
                        seen.Add(context);
                    }

                    // Successes a minute only, whatever the window says; failures not at all.
                    return context.Status == JobStatus.Succeeded ? TimeSpan.FromMinutes(1) : null;
                };
            },
            time);

        await dedup.EnqueueAsync(new Job("ok", "fine")).Within();
        await dedup.EnqueueAsync(new Job("failed", "bad")).Within();
        var failedAgain = await dedup.EnqueueAsync(new Job("failed", "bad")).Within();
        time.Advance(TimeSpan.FromMinutes(1));
        var okAgain = await dedup.EnqueueAsync(new Job("ok", "fine")).Within();

        Assert.Equal(JobRole.Leader, failedAgain.Role);
        Assert.Equal(JobRole.Leader, okAgain.Role);
        lock (seen)
        {
            Assert.Equal(4, seen.Count);
            Assert.Equal(("ok", JobStatus.Succeeded, (object?)"ok ok", (Exception?)null, TimeSpan.FromHours(1)), (seen[0].Key, seen[0].Status, seen[0].Value, seen[0].Exception, seen[0].DedupeWindow));
            Assert.Equal(JobStatus.Failed, seen[1].Status);
            Assert.Null(seen[1].Value);
            Assert.IsType<ArgumentException>(seen[1].Exception);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task Classifier_AnsweringNothingZeroOrLess_KeepsNothing(int? minutes)
    {
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Retention = _ => minutes is { } m ? TimeSpan.FromMinutes(m) : null;
            });

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var again = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal("run 2", again.Value);
        Assert.Equal(JobRole.Leader, again.Role);
    }

    [Fact]
    public async Task Classifier_Throwing_KeepsNothing_AndIsLoggedEachTime()
    {
        var logs = new LogSink();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"run {Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Retention = _ => throw new InvalidOperationException("classifier bug");
            },
            loggerFactory: logs);

        var first = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        Assert.Equal(1, logs.Count(1040));
        var second = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal("run 1", first.Value);
        Assert.Equal("run 2", second.Value);
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal(2, logs.Count(1040));
    }

    [Fact]
    public async Task Classifier_IsNotAskedAboutACanceledRun()
    {
        var asked = 0;
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "never";
            },
            o => o.Retention = _ =>
            {
                Interlocked.Increment(ref asked);
                return TimeSpan.FromHours(1);
            });
        using var leave = new CancellationTokenSource();

        var call = dedup.EnqueueAsync(new Job("k", "a"), leave.Token).AsTask();
        await gate.Reached.Within();
        await leave.CancelAsync();

        Assert.Equal(JobStatus.Canceled, (await call.Within()).Status);
        await Watchdog.Until(() => dedup.GetInFlight().Count == 0, "the abandoned flight ends");
        Assert.Equal(0, Volatile.Read(ref asked));
    }

    [Fact]
    public async Task Forget_ClearsAKeptFailure()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => Interlocked.Increment(ref runs) == 1 ? throw new InvalidOperationException("declined") : ValueTask.FromResult("paid"),
            o => o.Retention = _ => KeepFailures,
            time);

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        await dedup.ForgetAsync("k").AsTask().Within();
        var after = await dedup.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal("paid", after.Value);
        Assert.Equal(JobRole.Leader, after.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task ClaimingStore_KeptFailure_CompletesTheClaim_AndAnotherInstanceReplaysIt()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var runs = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = (job, _, _) =>
        {
            Interlocked.Increment(ref runs);
            throw new TimeoutException("upstream slow");
        };
        Action<JobDedupOptions<Job>> keepFailures = o =>
        {
            o.MaxRetryAttempts = 1;
            o.Retention = context => context.Status == JobStatus.Failed ? KeepFailures : context.DedupeWindow;
        };
        await using var first = Dedup.OnClaims(store, time, handler, keepFailures);
        await using var second = Dedup.OnClaims(store, time, handler, keepFailures);

        var original = await first.EnqueueAsync(new Job("k", "a")).Within();
        var replayed = await second.EnqueueAsync(new Job("k", "a")).Within();

        Assert.Equal(JobStatus.Failed, original.Status);
        Assert.Equal(1, store.CountOf(StoreOperation.Complete));
        Assert.Equal(0, store.CountOf(StoreOperation.Release));
        var kept = (await store.TryGetAsync("test", "k", default))!.Value;
        Assert.Equal(new StoredFailure(typeof(TimeoutException).FullName!, "upstream slow"), kept.Failure);
        Assert.Equal(JobStatus.Failed, replayed.Status);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal(2, replayed.Attempts);
        Assert.Equal(typeof(TimeoutException).FullName, Assert.IsType<ReplayedFailureException>(replayed.Exception).OriginalType);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task ClaimingStore_FailureNotKept_ReleasesTheClaimAsBefore()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            (job, _, _) => throw new InvalidOperationException("declined"),
            o => o.Retention = context => context.Status == JobStatus.Succeeded ? context.DedupeWindow : null);

        Assert.Equal(JobStatus.Failed, (await dedup.EnqueueAsync(new Job("k", "a")).Within()).Status);

        Assert.Equal(1, store.CountOf(StoreOperation.Release));
        Assert.Equal(0, store.CountOf(StoreOperation.Complete));
    }

    [Fact]
    public async Task PlainStore_KeptFailure_IsSavedWithItsFingerprint_AndReplayedFromTheStore()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        await using var dedup = Dedup.Create(
            (job, _, _) => throw new InvalidOperationException("declined"),
            o =>
            {
                o.Fingerprint = job => job.Payload;
                o.Retention = _ => KeepFailures;
            },
            time,
            store.AsPlainStore());

        await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var kept = (await store.TryGetAsync("test", "k", default))!.Value;
        var replayed = await dedup.EnqueueAsync(new Job("k", "a")).Within();
        var conflict = await dedup.EnqueueAsync(new Job("k", "b")).Within();

        Assert.Equal("a", kept.Fingerprint);
        Assert.Equal(typeof(InvalidOperationException).FullName, kept.Failure!.ExceptionType);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.IsType<ReplayedFailureException>(replayed.Exception);
        Assert.Equal(JobStatus.Conflict, conflict.Status);
    }

    [Fact]
    public async Task MemoryOutcomeStore_RoundTripsAFailureAndAFingerprint()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time);
        var outcome = new StoredOutcome<string>(null!, 2, time.GetUtcNow())
        {
            Fingerprint = "fp",
            Failure = new StoredFailure("System.TimeoutException", "slow"),
        };

        await store.SaveAsync("s", "k", outcome, TimeSpan.FromMinutes(1), default);

        Assert.Equal(outcome, await store.TryGetAsync("s", "k", default));
    }
}
