using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

public sealed class LeaderElectionTests
{
    [Fact]
    public async Task Retry_LeaderLeftDuringFailedAttempt_OldestWaiterLeadsWithItsOwnJob()
    {
        var gate = new Gate();
        var contexts = new List<(string Payload, int Attempt, bool LeaderChanged)>();
        await using var dedup = Dedup.Create(
            async (job, context, ct) =>
            {
                lock (contexts)
                {
                    contexts.Add((job.Payload, context.Attempt, context.LeaderChanged));
                }

                if (context.Attempt == 1)
                {
                    await gate.WaitAsync(CancellationToken.None);
                    throw new InvalidOperationException("attempt 1 fails");
                }

                return "handled " + job.Payload;
            },
            o => o.MaxRetryAttempts = 1);

        using var leaderLeaves = new CancellationTokenSource();
        var leader = dedup.EnqueueAsync(new Job("k", "A"), leaderLeaves.Token).AsTask();
        await gate.Reached.Within();
        var b = dedup.EnqueueAsync(new Job("k", "B")).AsTask();
        var c = dedup.EnqueueAsync(new Job("k", "C")).AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 2, "B and C joined");

        leaderLeaves.Cancel();
        var left = await leader.Within();
        gate.Open();
        var bOutcome = await b.Within();
        var cOutcome = await c.Within();

        Assert.Equal(JobStatus.Canceled, left.Status);
        Assert.Equal([("A", 1, false), ("B", 2, true)], contexts);
        Assert.Equal("handled B", bOutcome.Value);
        Assert.Equal(JobRole.Leader, bOutcome.Role);
        Assert.Equal("handled B", cOutcome.Value);
        Assert.Equal(JobRole.Joined, cOutcome.Role);
        Assert.Equal(2, cOutcome.Attempts);
        Assert.Equal(1, dedup.GetStats().LeaderElections);
    }

    [Fact]
    public async Task Retry_LeaderStillWaiting_KeepsItsJobAndNoElection()
    {
        var payloads = new List<string>();
        await using var dedup = Dedup.Create(
            (job, context, _) =>
            {
                lock (payloads)
                {
                    payloads.Add(job.Payload);
                }

                return context.Attempt == 1 ? throw new InvalidOperationException("once") : ValueTask.FromResult("ok");
            },
            o => o.MaxRetryAttempts = 1);

        var outcome = await dedup.EnqueueAsync(new Job("k", "A")).Within();

        Assert.Equal(["A", "A"], payloads);
        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal(0, dedup.GetStats().LeaderElections);
    }
}
