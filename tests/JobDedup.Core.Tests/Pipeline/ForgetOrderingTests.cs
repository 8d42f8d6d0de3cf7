using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>
/// Forget is ordered with what comes after it: a flight that was forgotten never writes into the dedupe window, and
/// an arrival after Forget returned never sees the forgotten outcome, whatever the store still has in progress.
/// </summary>
public sealed class ForgetOrderingTests
{
    private const string Probe = "probe";
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forget_WhileTheFinishedFlightIsStillSaving_LateDuplicateReplaysTheNewerRun(bool claiming)
    {
        var store = new ScriptableOutcomeStore<string>();
        var write = claiming ? StoreOperation.Complete : StoreOperation.Save;
        var oldSave = store.Hold(write, "k", times: 1);
        var runs = new RunTracker();
        await using var dedup = CreateCounting(runs, claiming ? store : store.AsPlainStore());

        var first = dedup.EnqueueAsync(new Job("k", "1")).AsTask();
        await oldSave.Reached.Within(); // run 1 finished; its outcome is on its way to the store
        dedup.Forget("k");

        var second = await dedup.EnqueueAsync(new Job("k", "2")).Within();
        Assert.Equal(JobRole.Leader, second.Role);
        Assert.Equal("run-2", second.Value);

        oldSave.Open(); // the forgotten flight's write lands only now
        Assert.Equal("run-1", (await first.Within()).Value);

        var late = await dedup.EnqueueAsync(new Job("k", "3")).Within();

        // The window must hold run 2: the forgotten flight's late write may never replace it.
        Assert.Equal(2, runs.Runs);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.Equal("run-2", late.Value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forget_WhileTheStoreIsStillRemovingTheOutcome_NextArrivalNeverReplaysTheForgottenValue(bool claiming)
    {
        var store = new ScriptableOutcomeStore<string>();
        var runs = new RunTracker();
        await using var dedup = CreateCounting(runs, claiming ? store : store.AsPlainStore());
        Assert.Equal("run-1", (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Value);
        var removal = store.Hold(StoreOperation.Remove, "k");
        var lookup = store.Hold(claiming ? StoreOperation.TryClaim : StoreOperation.TryGet, "k", times: 1);

        dedup.Forget("k");
        var next = dedup.EnqueueAsync(new Job("k", "2")).AsTask();
        await AfterTheDispatcherTookEverythingBeforeAsync(dedup);

        // The store still holds run 1. If the arrival looked the key up meanwhile, that answer must not reach it.
        if (lookup.Reached.IsCompleted)
        {
            lookup.Open();
            await lookup.Finished.Within();
        }

        lookup.Open();
        if (next.IsCompleted)
        {
            AssertNotTheForgottenValue(await next);
        }

        await removal.Reached.Within();
        removal.Open();
        var outcome = await next.Within();

        AssertNotTheForgottenValue(outcome);
        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("run-2", outcome.Value);
        Assert.Equal(2, runs.Runs);
    }

    private static JobDeduplicator<Job, string> CreateCounting(RunTracker runs, IOutcomeStore<string> store) =>
        Dedup.Create(
            (job, _, _) =>
            {
                if (job.Key == Probe)
                {
                    return new ValueTask<string>(Probe);
                }

                var run = runs.Start();
                runs.End(run);
                return new ValueTask<string>($"run-{run}");
            },
            o => o.CompletedRetention = Retention,
            store: store);

    /// <summary>
    /// Enqueues a job with an unrelated key and waits for its outcome: the dispatcher reads in order, so by then it has
    /// handled every arrival enqueued before, whatever it decided for them.
    /// </summary>
    private static async Task AfterTheDispatcherTookEverythingBeforeAsync(JobDeduplicator<Job, string> dedup) =>
        Assert.Equal(Probe, (await dedup.EnqueueAsync(new Job(Probe, Probe)).Within()).Value);

    private static void AssertNotTheForgottenValue(JobOutcome<string> outcome) =>
        Assert.False(
            outcome.Role == JobRole.Replayed && outcome.Value == "run-1",
            $"The arrival after Forget replayed the forgotten outcome: {outcome} = {outcome.Value}.");
}
