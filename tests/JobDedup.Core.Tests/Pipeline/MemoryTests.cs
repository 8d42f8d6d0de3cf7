namespace JobDedup.Core.Tests.Pipeline;

public sealed class MemoryTests
{
    [Fact]
    public async Task EnqueueAsync_MillionDistinctKeys_LeaveNoEntryBehind()
    {
        const int Total = 1_000_000;
        const int Batch = 10_000;
        var store = new MemoryOutcomeStore<int>(capacity: 1_000);
        var options = new JobDedupOptions<int>
        {
            Name = "memory",
            MaxRetryAttempts = 0,
            CompletedRetention = TimeSpan.FromMinutes(5),
            QueueCapacity = Batch,
        };
        var runs = 0;
        await using var dedup = new JobDeduplicator<int, int>(
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(job);
            },
            options,
            outcomeStore: store);

        var pending = new Task<JobOutcome<int>>[Batch];
        for (var start = 0; start < Total; start += Batch)
        {
            for (var i = 0; i < Batch; i++)
            {
                var job = start + i;
                pending[i] = dedup.EnqueueAsync(job.ToString(System.Globalization.CultureInfo.InvariantCulture), job).AsTask();
            }

            var outcomes = await Task.WhenAll(pending).Within();
            Assert.Equal(start + Batch - 1, outcomes[^1].Value);
        }

        Assert.Equal(Total, runs);
        var stats = dedup.GetStats();
        Assert.Equal(0, stats.Active);
        Assert.Equal(0, stats.Queued);
        Assert.Equal(Total, stats.Misses);
        Assert.Equal(1_000, store.Count);
    }
}
