using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class BackpressureTests
{
    // The blocking store holds the dispatcher inside its lookup of key "block", so the queue behind it fills.
    private static async Task<(JobDeduplicator<Job, string> Dedup, BlockingStore<string> Store, Task<JobOutcome<string>>[] Queued)> FillQueueAsync(QueueFullMode mode)
    {
        var store = new BlockingStore<string>("block");
        var dedup = Dedup.Create(
            (job, _, _) => ValueTask.FromResult(job.Key),
            o =>
            {
                o.QueueCapacity = 2;
                o.QueueFullMode = mode;
                o.CompletedRetention = TimeSpan.FromMinutes(1);
            },
            store: store);

        var blocked = dedup.EnqueueAsync(new Job("block", "x")).AsTask();
        await store.Blocked.Within();
        var queued = new[]
        {
            blocked,
            dedup.EnqueueAsync(new Job("q1", "x")).AsTask(),
            dedup.EnqueueAsync(new Job("q2", "x")).AsTask(),
        };
        Assert.Equal(2, dedup.GetStats().Queued);
        return (dedup, store, queued);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFullInRejectMode_ReturnsRejectedWithoutThrowing()
    {
        var (dedup, store, queued) = await FillQueueAsync(QueueFullMode.Reject);
        await using (dedup)
        {
            var rejected = await dedup.EnqueueAsync(new Job("late", "x")).Within();

            Assert.Equal(JobStatus.Rejected, rejected.Status);
            Assert.Equal(JobRole.None, rejected.Role);
            Assert.IsType<JobRejectedException>(rejected.Exception);
            Assert.Contains("queue", rejected.Exception!.Message);

            store.Release();
            var outcomes = await Task.WhenAll(queued).Within();
            Assert.Equal(["block", "q1", "q2"], outcomes.Select(o => o.Value));
        }
    }

    [Fact]
    public async Task EnqueueAsync_QueueFullInWaitMode_WaitsAndHonoursTheCallersToken()
    {
        var (dedup, store, queued) = await FillQueueAsync(QueueFullMode.Wait);
        await using (dedup)
        {
            using var cts = new CancellationTokenSource();
            var waiting = dedup.EnqueueAsync(new Job("late", "x"), cts.Token).AsTask();
            var patient = dedup.EnqueueAsync(new Job("later", "x")).AsTask();
            Assert.False(waiting.IsCompleted);

            cts.Cancel();
            var canceled = await waiting.Within();
            Assert.Equal(JobStatus.Canceled, canceled.Status);

            store.Release();
            var outcomes = await Task.WhenAll(queued).Within();
            Assert.All(outcomes, o => Assert.Equal(JobStatus.Succeeded, o.Status));
            Assert.Equal("later", (await patient.Within()).Value);
        }
    }
}
