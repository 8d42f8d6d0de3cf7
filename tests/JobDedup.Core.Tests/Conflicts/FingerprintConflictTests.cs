using System.Text;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Conflicts;

/// <summary>A duplicate whose payload fingerprint differs is never joined nor replayed: it ends as Conflict, wherever the key is held.</summary>
public sealed class FingerprintConflictTests
{
    [Fact]
    public async Task EnqueueAsync_KeyInFlightWithAnotherPayload_IsAConflictAtOnce_AndTheSamePayloadJoins()
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "ran " + job.Payload;
            },
            o => o.Fingerprint = job => job.Payload);

        var leader = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var conflict = await dedup.EnqueueAsync(new Job("k", "B")).Within();
        var same = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the same payload joins the flight");
        gate.Open();

        // The conflict came back while the leader was still held at the gate.
        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal(JobRole.None, conflict.Role);
        Assert.Equal(0, conflict.Attempts);
        var mismatch = Assert.IsType<PayloadMismatchException>(conflict.Exception);
        Assert.Equal("k", mismatch.Key);
        Assert.Equal("B", mismatch.Fingerprint);
        Assert.Equal("A", mismatch.ExistingFingerprint);
        Assert.Equal("ran A", (await leader.Within()).Value);
        var joined = await same.Within();
        Assert.Equal("ran A", joined.Value);
        Assert.Equal(JobRole.Joined, joined.Role);
        Assert.Equal(1, runs);
        Assert.Equal(1, dedup.GetStats().Conflicts);
    }

    [Fact]
    public async Task EnqueueAsync_KeyKeptInTheWindowWithAnotherPayload_IsAConflict_AndTheSamePayloadIsReplayed()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"ran {job.Payload} #{Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Fingerprint = job => job.Payload;
            },
            time);

        await dedup.EnqueueAsync(new Job("k", "A")).Within();
        var conflict = await dedup.EnqueueAsync(new Job("k", "B")).Within();
        var replayed = await dedup.EnqueueAsync(new Job("k", "A")).Within();

        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal("A", Assert.IsType<PayloadMismatchException>(conflict.Exception).ExistingFingerprint);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal("ran A #1", replayed.Value);
        Assert.Equal(1, runs);
        Assert.Equal(1, dedup.GetStats().Conflicts);
    }

    [Fact]
    public async Task EnqueueAsync_WindowReadByTheFlight_ComparesFingerprintsThere()
    {
        // A plain store that answers later: the window is read by the flight, not by the dispatcher.
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        await store.SeedAsync("test", "k", new StoredOutcome<string>("kept", 1, time.GetUtcNow()) { Fingerprint = "A" }, TimeSpan.FromHours(1));
        var read = store.Hold(StoreOperation.TryGet, "k");
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"ran #{Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Fingerprint = job => job.Payload;
            },
            time,
            store.AsPlainStore());

        var conflict = dedup.EnqueueAsync(new Job("k", "B")).AsTask();
        await read.Reached.Within();
        read.Open();

        var outcome = await conflict.Within();
        Assert.Equal(JobStatus.Conflict, outcome.Status);
        Assert.Equal(JobRole.None, outcome.Role);
        Assert.Equal(0, runs);
        Assert.Equal(1, dedup.GetStats().Conflicts);
    }

    [Fact]
    public async Task EnqueueAsync_FormattingVariantsOfOneJsonPayload_AreNoConflict()
    {
        var time = new FakeTimeProvider();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"ran #{Interlocked.Increment(ref runs)}"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Fingerprint = job => JobFingerprint.FromJson(Encoding.UTF8.GetBytes(job.Payload));
            },
            time);

        var first = await dedup.EnqueueAsync(new Job("k", """{"amount":1000,"currency":"EUR"}""")).Within();
        var second = await dedup.EnqueueAsync(new Job("k", """{ "currency": "EUR", "amount": 1.0e3 }""")).Within();

        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal(JobStatus.Succeeded, second.Status);
        Assert.Equal(JobRole.Replayed, second.Role);
        Assert.Equal(1, runs);
        Assert.Equal(0, dedup.GetStats().Conflicts);
    }

    [Fact]
    public async Task EnqueueAsync_KeptOutcomeWithoutAFingerprint_IsReplayedToAnyPayload()
    {
        // An outcome kept before fingerprints were turned on carries none: it answers whatever payload asks.
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(100, time);
        await store.SaveAsync("test", "k", new StoredOutcome<string>("old", 1, time.GetUtcNow()), TimeSpan.FromHours(1), default);
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult("must not run"),
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.Fingerprint = job => job.Payload;
            },
            time,
            store);

        var outcome = await dedup.EnqueueAsync(new Job("k", "B")).Within();

        Assert.Equal("old", outcome.Value);
        Assert.Equal(JobRole.Replayed, outcome.Role);
    }

    [Fact]
    public async Task EnqueueAsync_WithoutAFingerprintFunction_DifferentPayloadsJoinAsBefore()
    {
        var gate = new Gate();
        await using var dedup = Dedup.Create(async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ran " + job.Payload;
        });

        var leader = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var other = dedup.EnqueueAsync(new Job("k", "B")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the other payload joins");
        gate.Open();

        Assert.Equal("ran A", (await leader.Within()).Value);
        Assert.Equal(JobRole.Joined, (await other.Within()).Role);
        Assert.Equal(0, dedup.GetStats().Conflicts);
    }

    [Fact]
    public async Task EnqueueAsync_FingerprintFunctionThrows_FailsThatJobAsPermanent_AndTheDeduplicatorGoesOn()
    {
        var logs = new LogSink();
        var runs = 0;
        await using var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult($"ran {job.Payload} #{Interlocked.Increment(ref runs)}"),
            o => o.Fingerprint = job => job.Payload == "unreadable" ? throw new FormatException("the body is not JSON") : job.Payload,
            loggerFactory: logs);

        var failed = await dedup.EnqueueAsync(new Job("k", "unreadable")).Within();
        var next = await dedup.EnqueueAsync(new Job("k", "fine")).Within();

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(JobRole.None, failed.Role);
        var permanent = Assert.IsType<PermanentFailureException>(failed.Exception);
        Assert.IsType<FormatException>(permanent.InnerException);
        Assert.Contains("Fingerprint function", permanent.Message);
        Assert.Contains("'k'", permanent.Message);
        Assert.True(FailureClassification.IsPermanentByDefault(permanent));
        Assert.Equal("ran fine #1", next.Value);
        Assert.Equal(1, runs);
        Assert.Equal(1, logs.Count(1041));
    }

    [Fact]
    public async Task ClaimingStore_KeyBusyOnAnotherInstanceWithAnotherPayload_IsAConflictWithoutWaiting()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ran " + job.Payload;
        };
        await using var first = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);
        await using var second = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);

        var running = first.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var conflict = await second.EnqueueAsync(new Job("k", "B")).Within();
        gate.Open();

        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal(JobRole.None, conflict.Role);
        var mismatch = Assert.IsType<PayloadMismatchException>(conflict.Exception);
        Assert.Equal("A", mismatch.ExistingFingerprint);
        Assert.Equal("B", mismatch.Fingerprint);
        Assert.Equal(0, store.CountOf(StoreOperation.WaitForOutcome));
        Assert.Equal(1, second.GetStats().Conflicts);
        Assert.Equal("ran A", (await running.Within()).Value);
    }

    [Fact]
    public async Task ClaimingStore_KeyBusyWithAnUnknownFingerprint_WaitsThenComparesWithTheCompletedOutcome()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(new MemoryClaimingStore<string>(time) { ReportsClaimFingerprints = false });
        var gate = new Gate();
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ran " + job.Payload;
        };
        await using var first = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);
        await using var second = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);

        var running = first.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var differs = second.EnqueueAsync(new Job("k", "B")).AsTask();
        await Watchdog.Until(() => store.CountOf(StoreOperation.WaitForOutcome) == 1, "the other instance waits on the claim");
        Assert.False(differs.IsCompleted);
        gate.Open();

        Assert.Equal("ran A", (await running.Within()).Value);
        var conflict = await differs.Within();
        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal("A", Assert.IsType<PayloadMismatchException>(conflict.Exception).ExistingFingerprint);
    }

    [Fact]
    public async Task ClaimingStore_KeyCompletedWithAnotherPayload_IsAConflict_AndTheSamePayloadIsReplayed()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var runs = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler =
            (job, _, _) => ValueTask.FromResult($"ran {job.Payload} #{Interlocked.Increment(ref runs)}");
        await using var first = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);
        await using var second = Dedup.OnClaims(store, time, handler, o => o.Fingerprint = job => job.Payload);

        await first.EnqueueAsync(new Job("k", "A")).Within();
        var conflict = await second.EnqueueAsync(new Job("k", "B")).Within();
        var replayed = await second.EnqueueAsync(new Job("k", "A")).Within();

        Assert.Equal("A", (await store.TryGetAsync("test", "k", default))!.Value.Fingerprint);
        Assert.Equal(JobStatus.Conflict, conflict.Status);
        Assert.Equal("A", Assert.IsType<PayloadMismatchException>(conflict.Exception).ExistingFingerprint);
        Assert.Equal("ran A #1", replayed.Value);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task ClaimingStore_TheClaimCarriesTheJobsFingerprint()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            },
            o => o.Fingerprint = job => "fp-" + job.Payload);

        var running = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        var busy = await store.TryClaimAsync("test", "k", "probe", null, TimeSpan.FromSeconds(30), default);
        gate.Open();

        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Equal("fp-A", busy.Fingerprint);
        Assert.Equal("done", (await running.Within()).Value);
    }

    [Fact]
    public async Task Conflicts_AreMeasuredWithRoleConflict_AndAFlightEndingInOneWithStatusConflict()
    {
        var name = $"conflicts-{Guid.NewGuid():N}";
        using var metrics = new MetricsRecorder(name);
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ran " + job.Payload;
        };
        Action<JobDedupOptions<Job>> configure = o =>
        {
            o.Name = name; // one scope in the store for both instances
            o.Fingerprint = job => job.Payload;
        };
        await using var first = Dedup.OnClaims(store, time, handler, configure);
        await using var second = Dedup.OnClaims(store, time, handler, configure);

        // On the other instance the key is busy with payload A: that flight ends in a conflict.
        var running = first.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        Assert.Equal(JobStatus.Conflict, (await second.EnqueueAsync(new Job("k", "B")).Within()).Status);
        gate.Open();
        await running.Within();

        // The key kept with payload A: the claim finds it completed, and B's flight ends in a conflict.
        Assert.Equal(JobRole.Replayed, (await second.EnqueueAsync(new Job("k", "A")).Within()).Role);
        Assert.Equal(JobStatus.Conflict, (await second.EnqueueAsync(new Job("k", "B")).Within()).Status);

        // A flight's callers get its outcome first, and then it is counted: wait for the count.
        await Watchdog.Until(
            () => second.GetStats().Conflicts == 2 && metrics.Sum("jobdedup.jobs.enqueued", "jobdedup.role", "conflict") == 2,
            "both conflicts counted");
        Assert.Equal(2, metrics.Sum("jobdedup.jobs.enqueued", "jobdedup.role", "conflict"));
        Assert.Equal(2, metrics.Sum("jobdedup.flights.completed", "jobdedup.status", "conflict"));
        Assert.Equal(2, second.GetStats().Conflicts);
    }
}
