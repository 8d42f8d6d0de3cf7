using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class WorkerCrashTests(FaultServers servers, ITestOutputHelper output)
{
    /// <summary>How long a restarted instance may take to run again the keys a killed one held.</summary>
    internal static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(10);

    private const int Keys = 1000;
    private const int Slots = 16;
    private const int AnsweredBeforeKill = 300;

    [Fact]
    public async Task Worker_KilledMidBurstAndRestarted_RunsAgainOnlyTheKeysInFlightWithinSeconds()
    {
        await using var run = await FaultCase.StartAsync(servers, output, "crash");
        var settings = run.Settings("w", FaultCase.PostgreSqlStore, ("MaxConcurrentHandlers", $"{Slots}"));
        var first = run.StartWorker("first", settings);
        await first.WaitConsumingAsync();

        // Exactly 300 keys answered and made durable, then every handler slot held open downstream: the kill finds
        // 16 keys in flight and nothing between a downstream answer and its ack.
        run.Sink.HoldAfter(AnsweredBeforeKill);
        await run.PublishAsync(Enumerable.Range(0, Keys).Select(i => FaultMessage.Json($"m{i}", $"{run.Name}-{i}")).ToList());
        await run.UntilAsync(() => run.Ledger.Succeeded == AnsweredBeforeKill && run.Sink.Held == Slots, $"{AnsweredBeforeKill} answers and {Slots} handlers held", TimeSpan.FromSeconds(60));
        var inFlight = run.Sink.HeldRuns.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Slots, inFlight.Count);

        await first.KillAsync();
        var killedAt = run.Clock.Elapsed;
        run.Sink.Release();
        var second = run.StartWorker("second", settings);
        await second.WaitConsumingAsync();
        var consumingAt = run.Clock.Elapsed;
        await run.SettledAsync(TimeSpan.FromSeconds(90));

        // Every key again: all answered from the durable window, none run.
        var runsBefore = run.Sink.Requests;
        await run.PublishAsync(Enumerable.Range(0, Keys).Select(i => FaultMessage.Json($"d{i}", $"{run.Name}-{i}")).ToList());
        await run.FinishAsync(TimeSpan.FromSeconds(60));

        var takeover = run.LastRunOf(inFlight, killedAt);
        run.Note($"restarted worker consuming {FaultCase.Seconds(consumingAt - killedAt)} after SIGKILL; the {Slots} keys in flight ran again within {FaultCase.Seconds(takeover)} of the kill");
        Assert.Equal(runsBefore, run.Sink.Requests);
        run.AssertRuns(Enumerable.Range(0, Keys).Select(i => $"{run.Name}-{i}"), k => inFlight.Contains(k) ? 2 : 1, "in flight at the kill: twice, others: once");
        Assert.Empty(run.Ledger.Dead);
        run.AssertIdempotencyKeys();
        Assert.True(takeover <= TakeoverBound, $"The keys the killed worker held ran again {FaultCase.Seconds(takeover)} after the kill; the bound is {FaultCase.Seconds(TakeoverBound)}.");
    }
}
