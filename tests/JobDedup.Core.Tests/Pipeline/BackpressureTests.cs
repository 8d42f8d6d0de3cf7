using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class BackpressureTests
{
    // The store blocks the dispatcher inside its lookup of key "block", so the queue behind it fills.
    private static async Task<(JobDeduplicator<Job, string> Dedup, StoreGate Lookup, Task<JobOutcome<string>>[] Queued)> FillQueueAsync(QueueFullMode mode)
    {
        var store = new ScriptableOutcomeStore<string>();
        var lookup = store.Block(StoreOperation.TryGet, "block");
        var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult(job.Key),
            o =>
            {
                o.QueueCapacity = 2;
                o.QueueFullMode = mode;
                o.DedupeWindow = TimeSpan.FromMinutes(1);
            },
            store: store.AsPlainStore());

        var blocked = dedup.EnqueueAsync(new Job("block", "x")).AsTask();
        await lookup.Reached.Within();
        var queued = new[]
        {
            blocked,
            dedup.EnqueueAsync(new Job("q1", "x")).AsTask(),
            dedup.EnqueueAsync(new Job("q2", "x")).AsTask(),
        };
        Assert.Equal(2, dedup.GetStats().Queued);
        return (dedup, lookup, queued);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFullInRejectMode_ReturnsRejectedWithoutThrowing()
    {
        var (dedup, lookup, queued) = await FillQueueAsync(QueueFullMode.Reject);
        await using (dedup)
        {
            var rejected = await dedup.EnqueueAsync(new Job("late", "x")).Within();

            Assert.Equal(JobStatus.Rejected, rejected.Status);
            Assert.Equal(JobRole.None, rejected.Role);
            Assert.IsType<JobRejectedException>(rejected.Exception);
            Assert.Contains("queue", rejected.Exception!.Message);

            lookup.Open();
            var outcomes = await Task.WhenAll(queued).Within();
            Assert.Equal(["block", "q1", "q2"], outcomes.Select(o => o.Value));
        }
    }

    [Fact]
    public async Task EnqueueAsync_QueueFullInWaitMode_WaitsAndHonoursTheCallersToken()
    {
        var (dedup, lookup, queued) = await FillQueueAsync(QueueFullMode.Wait);
        await using (dedup)
        {
            using var cts = new CancellationTokenSource();
            var waiting = dedup.EnqueueAsync(new Job("late", "x"), cts.Token).AsTask();
            var patient = dedup.EnqueueAsync(new Job("later", "x")).AsTask();
            Assert.False(waiting.IsCompleted);

            cts.Cancel();
            var canceled = await waiting.Within();
            Assert.Equal(JobStatus.Canceled, canceled.Status);

            lookup.Open();
            var outcomes = await Task.WhenAll(queued).Within();
            Assert.All(outcomes, o => Assert.Equal(JobStatus.Succeeded, o.Status));
            Assert.Equal("later", (await patient.Within()).Value);
        }
    }
}
