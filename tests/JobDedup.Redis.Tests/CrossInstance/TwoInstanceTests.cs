using System.Collections.Concurrent;
using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.CrossInstance;

/// <summary>Deduplicators with Redis stores of their own on one server, as two processes would have them.</summary>
public sealed class TwoInstanceTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task TwoDeduplicators_HundredConcurrentDuplicatesOfTenKeys_RunTenHandlersAndEveryCallerGetsItsKeysOutcome()
    {
        var scope = new StoreScope(redis);
        await using var storeA = scope.Store();
        await using var storeB = scope.Store();
        var gate = new Gate();
        var runs = new ConcurrentDictionary<string, int>();
        Func<string, Func<Job, JobContext, CancellationToken, ValueTask<string>>> handler = instance => async (job, _, ct) =>
        {
            runs.AddOrUpdate(job.Key, 1, (_, n) => n + 1);
            await gate.WaitAsync(ct);
            return $"{job.Key} charged by {instance}";
        };
        await using var a = Dedup.Create(storeA, handler("A"));
        await using var b = Dedup.Create(storeB, handler("B"));

        var calls = Enumerable.Range(0, 100)
            .Select(i => (Key: $"k{i % 10}", Task: ((i / 10) % 2 == 0 ? a : b).EnqueueAsync(new Job($"k{i % 10}", $"call {i}")).AsTask()))
            .ToArray();

        // Every key is claimed by one instance (its handler held at the gate) and waited on by the other.
        await Watchdog.Until(() => gate.Arrivals == 10 && storeA.Waiters + storeB.Waiters == 10, "each key runs on one instance and is awaited on the other");
        Assert.Equal(0, calls.Count(c => c.Task.IsCompleted));
        gate.Open();
        var outcomes = await Task.WhenAll(calls.Select(c => c.Task)).Within();

        Assert.Equal(10, runs.Count);
        Assert.All(runs, r => Assert.Equal(1, r.Value));
        for (var i = 0; i < calls.Length; i++)
        {
            Assert.Equal(JobStatus.Succeeded, outcomes[i].Status);
            Assert.StartsWith(calls[i].Key + " charged by ", outcomes[i].Value);
        }

        foreach (var group in calls.Select((c, i) => (c.Key, Value: outcomes[i].Value)).GroupBy(x => x.Key))
        {
            Assert.Single(group.Select(x => x.Value).Distinct());
        }
    }

    [Fact]
    public async Task LateDuplicateOnTheOtherInstance_IsReplayedFromRedis()
    {
        var scope = new StoreScope(redis);
        await using var storeA = scope.Store();
        await using var storeB = scope.Store();
        var runs = 0;
        await using var a = Dedup.Create(storeA, (job, _, _) => { Interlocked.Increment(ref runs); return ValueTask.FromResult("paid " + job.Payload); });
        await using var b = Dedup.Create(storeB, (job, _, _) => { Interlocked.Increment(ref runs); return ValueTask.FromResult("paid again " + job.Payload); });

        var first = await a.EnqueueAsync(new Job("pay-1", "once")).Within();
        var late = await b.EnqueueAsync(new Job("pay-1", "twice")).Within();

        Assert.Equal(1, runs);
        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal(JobRole.Replayed, late.Role);
        Assert.Equal("paid once", late.Value);
    }
}
