using System.Text;

namespace JobDedup.Testing.Contracts;

/// <summary>
/// Two deduplicators on one durable store, as two processes would have them, comparing payload fingerprints: the same
/// key with another payload is a conflict while the first runs and after it completed; the same payload joins and
/// replays; a kept failure is replayed by the other instance. A store's test project derives from it and supplies the
/// harness.
/// </summary>
public abstract class PayloadDedupContract
{
    protected abstract IClaimingStoreHarness NewHarness();

    [Fact]
    public async Task TwoInstances_SameKeyOtherPayloadWhileTheFirstRuns_TheSecondIsAConflictAndDoesNotRun()
    {
        await using var harness = NewHarness();
        var gate = new Gate();
        var runsB = new RunTracker();
        await using var a = Fingerprinted(harness.Store(), async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "charged " + job.Payload;
        });
        await using var b = Fingerprinted(harness.Store(), MustNotRun(runsB));

        var running = a.EnqueueAsync(new Job("evt_1", "amount=10")).AsTask();
        await gate.Reached.Within();
        var conflict = await b.EnqueueAsync(new Job("evt_1", "amount=20")).Within();
        Assert.False(running.IsCompleted);
        gate.Open();
        var led = await running.Within();

        Assert.Equal(JobStatus.Conflict, conflict.Status);
        var mismatch = Assert.IsType<PayloadMismatchException>(conflict.Exception);
        Assert.Equal(Fingerprint("amount=20"), mismatch.Fingerprint);
        Assert.Equal(Fingerprint("amount=10"), mismatch.ExistingFingerprint);
        Assert.Equal(JobStatus.Succeeded, led.Status);
        Assert.Equal("charged amount=10", led.Value);
        Assert.Equal(0, runsB.Runs);
    }

    [Fact]
    public async Task TwoInstances_SameKeyOtherPayloadAfterTheFirstCompleted_TheSecondIsAConflictAgainstTheKeptOutcome()
    {
        await using var harness = NewHarness();
        var runsB = new RunTracker();
        await using var a = Fingerprinted(harness.Store(), (job, _, _) => ValueTask.FromResult("charged " + job.Payload));
        await using var b = Fingerprinted(harness.Store(), MustNotRun(runsB));

        var led = await a.EnqueueAsync(new Job("evt_1", "amount=10")).Within();
        var conflict = await b.EnqueueAsync(new Job("evt_1", "amount=20")).Within();
        var replayed = await b.EnqueueAsync(new Job("evt_1", "amount=10")).Within();

        Assert.Equal("charged amount=10", led.Value);
        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal(Fingerprint("amount=10"), Assert.IsType<PayloadMismatchException>(conflict.Exception).ExistingFingerprint);
        Assert.Equal(JobStatus.Succeeded, replayed.Status);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal("charged amount=10", replayed.Value);
        Assert.Equal(0, runsB.Runs);
    }

    [Fact]
    public async Task TwoInstances_SameKeySamePayloadWhileTheFirstRuns_TheSecondWaitsAndSharesItsOutcome()
    {
        await using var harness = NewHarness();
        var gate = new Gate();
        var runs = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "charged " + job.Payload;
        };
        var storeB = harness.Store();
        await using var a = Fingerprinted(harness.Store(), handler);
        await using var b = Fingerprinted(storeB, handler);

        var running = a.EnqueueAsync(new Job("evt_1", "amount=10")).AsTask();
        await gate.Reached.Within();
        var waiting = b.EnqueueAsync(new Job("evt_1", "amount=10")).AsTask();
        await Watchdog.Until(() => harness.Waiters(storeB) == 1, "the second instance waits on the first's claim");
        Assert.False(waiting.IsCompleted);
        gate.Open();
        var led = await running.Within();
        var shared = await waiting.Within();

        Assert.Equal(1, runs);
        Assert.Equal(JobRole.Leader, led.Role);
        Assert.Equal(JobStatus.Succeeded, shared.Status);
        Assert.NotEqual(JobRole.Leader, shared.Role);
        Assert.Equal("charged amount=10", shared.Value);
    }

    [Fact]
    public async Task TwoInstances_AKeptFailure_IsReplayedByTheOtherInstanceWithTheOriginalTypeAndMessage()
    {
        await using var harness = NewHarness();
        var runsB = new RunTracker();
        Action<JobDedupOptions<Job>> keepFailures = o => o.Retention = c => c.Status == JobStatus.Failed ? TimeSpan.FromHours(1) : c.DedupeWindow;
        await using var a = Fingerprinted(harness.Store(), (_, _, _) => throw new InvalidOperationException("card declined"), keepFailures);
        await using var b = Fingerprinted(harness.Store(), MustNotRun(runsB), keepFailures);

        var failed = await a.EnqueueAsync(new Job("evt_1", "amount=10")).Within();
        var replayed = await b.EnqueueAsync(new Job("evt_1", "amount=10")).Within();
        var conflict = await b.EnqueueAsync(new Job("evt_1", "amount=20")).Within();

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(JobStatus.Failed, replayed.Status);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        var exception = Assert.IsType<ReplayedFailureException>(replayed.Exception);
        Assert.Equal(typeof(InvalidOperationException).FullName, exception.OriginalType);
        Assert.Equal("card declined", exception.Message);
        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal(0, runsB.Runs);
    }

    /// <summary>A handler that only counts its runs: the instance it serves must never run the key.</summary>
    private static Func<Job, JobContext, CancellationToken, ValueTask<string>> MustNotRun(RunTracker runs) => (_, _, _) =>
    {
        runs.End(runs.Start());
        return ValueTask.FromResult("must not run");
    };

    private static string Fingerprint(string payload) => JobFingerprint.FromBytes(Encoding.UTF8.GetBytes(payload));

    private static JobDeduplicator<Job, string> Fingerprinted(
        IOutcomeStore<string> store,
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<Job>>? configure = null) =>
        Dedup.Create(store, handler, o =>
        {
            o.Fingerprint = job => Fingerprint(job.Payload);
            configure?.Invoke(o);
        });
}
