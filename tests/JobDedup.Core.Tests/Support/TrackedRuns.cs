namespace JobDedup.Core.Tests.Support;

/// <summary>
/// Handlers that record each run in a <see cref="RunTracker"/> and answer "run-N", and the probe job that tells a test
/// when the dispatcher has handled every arrival enqueued before it.
/// </summary>
public static class TrackedRuns
{
    /// <summary>The key of the probe job; handlers built here answer it at once, without recording a run.</summary>
    public const string ProbeKey = "probe";

    /// <summary>
    /// A handler that records its run, runs <paramref name="during"/> inside it (synchronous code there runs before
    /// the handler returns its task), and answers "run-N".
    /// </summary>
    public static Func<Job, JobContext, CancellationToken, ValueTask<string>> Handler(
        RunTracker runs,
        Func<int, Job, CancellationToken, ValueTask>? during = null) =>
        Handler(_ => runs, during);

    /// <summary>The same, with one tracker per key (or per group of keys) chosen by <paramref name="trackerOf"/>.</summary>
    public static Func<Job, JobContext, CancellationToken, ValueTask<string>> Handler(
        Func<Job, RunTracker> trackerOf,
        Func<int, Job, CancellationToken, ValueTask>? during = null) =>
        async (job, _, ct) =>
        {
            if (job.Key == ProbeKey)
            {
                return ProbeKey;
            }

            var runs = trackerOf(job);
            var run = runs.Start();
            try
            {
                if (during is not null)
                {
                    await during(run, job, ct);
                }

                return $"run-{run}";
            }
            finally
            {
                runs.End(run);
            }
        };

    /// <summary>A deduplicator with a tracked handler that keeps outcomes in <paramref name="store"/> for an hour.</summary>
    public static JobDeduplicator<Job, string> WithWindow(RunTracker runs, IOutcomeStore<string> store) =>
        Dedup.Create(Handler(runs), o => o.DedupeWindow = TimeSpan.FromHours(1), store: store);

    /// <summary>
    /// Enqueues a job with an unrelated key and waits for its outcome: the dispatcher reads in order, so by then it has
    /// handled every arrival enqueued before, whatever it decided for them.
    /// </summary>
    public static async Task AfterTheDispatcherTookEverythingBeforeAsync(this JobDeduplicator<Job, string> dedup) =>
        Assert.Equal(ProbeKey, (await dedup.EnqueueAsync(new Job(ProbeKey, ProbeKey)).Within()).Value);
}
