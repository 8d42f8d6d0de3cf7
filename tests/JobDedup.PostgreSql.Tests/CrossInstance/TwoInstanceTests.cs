using System.Collections.Concurrent;
using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.CrossInstance;

/// <summary>Deduplicators with stores of their own on one database, as two processes would have them.</summary>
public sealed class TwoInstanceTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task TwoDeduplicators_HundredConcurrentDuplicatesOfTenKeys_RunTenHandlersAndEveryCallerGetsItsKeysOutcome()
    {
        await using var schema = database.NewSchema();
        await using var storeA = schema.Store();
        await using var storeB = schema.Store();
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

        // Keys k0..k9, ten callers each, split between the instances (i / 10 alternates).
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
        Assert.Equal(10, outcomes.Count(o => o.Role == JobRole.Leader));
        for (var i = 0; i < calls.Length; i++)
        {
            Assert.Equal(JobStatus.Succeeded, outcomes[i].Status);
            Assert.StartsWith(calls[i].Key + " charged by ", outcomes[i].Value);
        }

        foreach (var group in calls.Select((c, i) => (c.Key, Value: outcomes[i].Value)).GroupBy(x => x.Key))
        {
            Assert.Single(group.Select(x => x.Value).Distinct());
        }

        Assert.Equal(10, await schema.CountAsync("status = 'completed'"));
    }

    [Fact]
    public async Task KeyBusyReject_AnotherInstanceRunsTheKey_TheDuplicateIsRejectedAtOnce()
    {
        await using var schema = database.NewSchema();
        await using var storeA = schema.Store();
        await using var storeB = schema.Store();
        var gate = new Gate();
        await using var a = Dedup.Create(storeA, async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "done by A";
        });
        await using var b = Dedup.Create(storeB, (_, _, _) => ValueTask.FromResult("must not run"), o => o.WhenKeyBusy = BusyKeyMode.Reject);

        var running = a.EnqueueAsync(new Job("evt_1", "A")).AsTask();
        await gate.Reached.Within();
        var rejected = await b.EnqueueAsync(new Job("evt_1", "B")).Within();
        gate.Open();
        var led = await running.Within();
        var replayed = await b.EnqueueAsync(new Job("evt_1", "B again")).Within();

        Assert.Equal(JobStatus.Rejected, rejected.Status);
        Assert.Contains("another instance", rejected.Exception!.Message);
        Assert.Equal("done by A", led.Value);
        Assert.Equal("done by A", replayed.Value);
        Assert.Equal(JobRole.Replayed, replayed.Role);
        Assert.Equal(0, storeB.Waiters);
    }

    [Fact]
    public async Task Restart_KeyCompletedBeforeIt_IsReplayedAfterItWithoutAHandlerRun()
    {
        await using var schema = database.NewSchema();
        var runs = 0;
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler = (job, _, _) =>
            ValueTask.FromResult($"receipt for {job.Payload} (run {Interlocked.Increment(ref runs)})");

        var store = schema.Store();
        var before = Dedup.Create(store, handler);
        var first = await before.EnqueueAsync(new Job("evt_1", "first delivery")).Within();
        await before.DisposeAsync();
        await store.DisposeAsync();

        await using var restartedStore = schema.Store();
        await using var after = Dedup.Create(restartedStore, handler);
        var redelivered = await after.EnqueueAsync(new Job("evt_1", "redelivery")).Within();
        var fresh = await after.EnqueueAsync(new Job("evt_2", "another event")).Within();

        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal("receipt for first delivery (run 1)", first.Value);
        Assert.Equal(JobRole.Replayed, redelivered.Role);
        Assert.Equal("receipt for first delivery (run 1)", redelivered.Value);
        Assert.Equal(JobRole.Leader, fresh.Role);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task FailedRun_ReleasesItsClaim_SoTheOtherInstanceRunsTheKey()
    {
        await using var schema = database.NewSchema();
        await using var storeA = schema.Store();
        await using var storeB = schema.Store();
        await using var a = Dedup.Create(storeA, (_, _, _) => throw new InvalidOperationException("card declined"));
        await using var b = Dedup.Create(storeB, (_, _, _) => ValueTask.FromResult("charged by B"));

        var failed = await a.EnqueueAsync(new Job("k", "A")).Within();
        var retried = await b.EnqueueAsync(new Job("k", "B")).Within();

        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(JobRole.Leader, retried.Role);
        Assert.Equal("charged by B", retried.Value);
        Assert.Equal(1, await schema.CountAsync("status = 'completed'"));
    }
}
