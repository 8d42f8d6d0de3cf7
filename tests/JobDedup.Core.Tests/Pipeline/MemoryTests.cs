using System.Runtime.CompilerServices;
using JobDedup.Core.Tests.Support;

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
            DedupeWindow = TimeSpan.FromMinutes(5),
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

    // Waiters per key are capped, and a flight must not keep every caller that ever joined, including the ones that
    // left: a long flight with callers that time out and retry would grow without bound. What it still holds shows in
    // which of the departed callers' jobs the garbage collector cannot reclaim.
    [Fact]
    public async Task EnqueueAsync_CallersJoinAndLeaveALongFlight_FlightHoldsOnlyAboutMaxWaitersPerKeyOfTheCallersThatLeft()
    {
        const int MaxWaiters = 4;
        const int Rounds = 100;
        var gate = new Gate();
        await using var dedup = Dedup.Create(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "v";
            },
            o => o.MaxWaitersPerKey = MaxWaiters);

        var leader = dedup.EnqueueAsync(new Job("k", "leader")).AsTask();
        await gate.Reached.Within();
        var departed = new List<WeakReference>();
        for (var round = 0; round < Rounds; round++)
        {
            departed.AddRange(await JoinAndLeaveAsync(dedup, MaxWaiters - 1, joinedBefore: round * (MaxWaiters - 1)));
        }

        var retained = StillReachable(departed);
        gate.Open();
        Assert.Equal("v", (await leader.Within()).Value);

        // Holding every caller would keep all 300 departed jobs; callers that left are dropped once the list reaches
        // the limit (or twice the callers still waiting), so at most twice MaxWaitersPerKey of them stay reachable.
        Assert.InRange(retained, 0, 2 * MaxWaiters);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference[]> JoinAndLeaveAsync(JobDeduplicator<Job, string> dedup, int count, int joinedBefore)
    {
        var sources = Enumerable.Range(0, count).Select(_ => new CancellationTokenSource()).ToArray();
        var jobs = Enumerable.Range(0, count).Select(i => new Job("k", $"joiner {joinedBefore + i}")).ToArray();
        var calls = jobs.Select((job, i) => dedup.EnqueueAsync(job, sources[i].Token).AsTask()).ToArray();
        await Watchdog.Until(() => dedup.GetStats().Hits == joinedBefore + count, "joiners attached");
        foreach (var source in sources)
        {
            await source.CancelAsync();
            source.Dispose();
        }

        Assert.All(await Task.WhenAll(calls).Within(), o => Assert.Equal(JobStatus.Canceled, o.Status));
        return [.. jobs.Select(job => new WeakReference(job))];
    }

    private static int StillReachable(List<WeakReference> references)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return references.Count(r => r.IsAlive);
    }
}
