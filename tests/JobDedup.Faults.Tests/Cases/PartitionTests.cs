using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class PartitionTests(FaultServers servers, ITestOutputHelper output)
{
    /// <summary>How soon after the last instance consumes every instance must be active on its share.</summary>
    private static readonly TimeSpan SpreadBound = TimeSpan.FromSeconds(10);

    private const int Keys = 1000;
    private const int Slots = 16;
    private const int AnsweredBeforeKill = 400;

    [Theory]
    [InlineData(2, 4)]
    [InlineData(3, 6)]
    public async Task Partitions_SharedEvenlyAndOneWorkerKilled_ItsPartitionsMoveWithinSecondsAndOnlyItsKeysInFlightRunAgain(int workers, int partitions)
    {
        await using var run = await FaultCase.StartAsync(servers, output, $"partitions-{workers}");
        var names = Enumerable.Range(1, workers).Select(i => $"w{i}").ToList();
        var started = names.Select(n => run.StartWorker(n, run.Settings(n, FaultCase.PostgreSqlStore, ("Partitions", $"{partitions}"), ("MaxConcurrentHandlers", $"{Slots}")))).ToList();
        foreach (var worker in started)
        {
            await worker.WaitConsumingAsync();
        }

        var consumingAt = run.Clock.Elapsed;
        var share = partitions / workers;
        var (owners, spreadListed) = await AwaitOwnersAsync(run, names, share, SpreadBound, "every worker active on its share of the partitions");
        run.Note($"{workers} workers active on {share} partitions each by {FaultCase.Seconds(run.Clock.Elapsed - consumingAt)} after the last one consumed (the listing that showed it began at {FaultCase.Seconds(spreadListed - consumingAt)})");

        run.Sink.HoldAfter(AnsweredBeforeKill);
        await run.PublishAsync(Enumerable.Range(0, Keys).Select(i => FaultMessage.Json($"m{i}", $"{run.Name}-{i}")).ToList(), exchange: $"{run.Queue}.partitions");
        // The worker killed is one whose every handler slot is held. The keys spread over the partitions unevenly, and
        // the first answers need not come evenly from the workers: one whose partitions ran nearly dry among them holds
        // fewer keys than it has slots (a fault run saw 16, 16 and 7), which says nothing about the takeover.
        string? victimName = null;
        await run.UntilAsync(
            () => run.Ledger.Succeeded == AnsweredBeforeKill && (victimName = names.FirstOrDefault(n => run.Sink.HeldRuns.Count(r => r.Worker == n) == Slots)) is not null,
            $"{AnsweredBeforeKill} answers and every handler slot of one worker held",
            TimeSpan.FromSeconds(60));

        var victim = started[names.IndexOf(victimName!)];
        var inFlight = run.Sink.HeldRuns.Where(r => r.Worker == victimName).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Slots, inFlight.Count);
        await victim.KillAsync();
        var killedAt = run.Clock.Elapsed;
        run.Sink.Release();
        var survivors = names.Where(n => n != victimName).ToList();
        var (_, movedListed) = await AwaitOwnersAsync(run, survivors, partitions / survivors.Count, WorkerCrashTests.TakeoverBound, "the killed worker's partitions active on the survivors");
        var movedAfter = $"{FaultCase.Seconds(run.Clock.Elapsed - killedAt)} (the listing that showed it began at {FaultCase.Seconds(movedListed - killedAt)})";
        await run.SettledAsync(TimeSpan.FromSeconds(90));

        var runsBefore = run.Sink.Requests;
        await run.PublishAsync(Enumerable.Range(0, Keys).Select(i => FaultMessage.Json($"d{i}", $"{run.Name}-{i}")).ToList(), exchange: $"{run.Queue}.partitions");
        await run.FinishAsync(TimeSpan.FromSeconds(60));

        var takeover = run.LastRunOf(inFlight, killedAt);
        run.Note($"SIGKILL of one of {workers} ({victimName}): its partitions active on the survivors by {movedAfter}; its {Slots} keys in flight ran again within {FaultCase.Seconds(takeover)}; owners before the kill: {string.Join(", ", owners.OrderBy(o => o.Key).Select(o => o.Value))}");
        Assert.Equal(runsBefore, run.Sink.Requests);
        run.AssertRuns(Enumerable.Range(0, Keys).Select(i => $"{run.Name}-{i}"), k => inFlight.Contains(k) ? 2 : 1, "in flight on the killed worker: twice, others: once");
        Assert.Empty(run.Ledger.Dead);
        Assert.True(takeover <= WorkerCrashTests.TakeoverBound, $"The keys the killed worker held ran again {FaultCase.Seconds(takeover)} after the kill; the bound is {FaultCase.Seconds(WorkerCrashTests.TakeoverBound)}.");
    }

    /// <summary>Waits until each named worker is the active consumer of exactly <paramref name="share"/> partitions and every partition has one.</summary>
    private static async Task<(Dictionary<string, string> Owners, TimeSpan ListingStarted)> AwaitOwnersAsync(FaultCase run, List<string> workers, int share, TimeSpan limit, string what)
    {
        var deadline = run.Clock.Elapsed + limit;
        var partitions = workers.Count * share;
        while (true)
        {
            // A listing that starts before the deadline and shows the state counts: the state was reached by its end.
            var startedAt = run.Clock.Elapsed;
            var owners = await ActiveConsumers.ReadAsync($"{run.Queue}.partition.");
            var counts = workers.ToDictionary(w => w, w => owners.Values.Count(o => o == $"{run.Name}:{w}"), StringComparer.Ordinal);
            if (owners.Count == partitions && counts.Values.All(c => c == share))
            {
                return (owners, startedAt);
            }

            if (startedAt > deadline)
            {
                Assert.Fail($"Not within {FaultCase.Seconds(limit)}: {what}. Active consumers: {string.Join(", ", owners.OrderBy(o => o.Key).Select(o => $"{o.Key[(run.Queue.Length + 1)..]}={o.Value}"))}. {run.Diagnostics()}");
            }

            await Task.Delay(200);
        }
    }
}
