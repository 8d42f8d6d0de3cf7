using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class DatabaseOutageTests(FaultServers servers, ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Database_StoppedForSecondsWhileHandlersRun_NoMessageDeadLetteredAndEachKeyRunOnce()
    {
        await using var run = await FaultCase.StartAsync(servers, output, "database");

        // Few broker deliveries and short delays: an outage spent as failed attempts would dead-letter within seconds.
        var worker = run.StartWorker("w1", run.Settings("w1", FaultCase.PostgreSqlStore, ("MaxDeliveryAttempts", "3"), ("RetryDelays__0", "00:00:00.500")));
        await worker.WaitConsumingAsync();

        run.Sink.HoldAfter(200);
        await run.PublishAsync(Enumerable.Range(0, 300).Select(i => FaultMessage.Json($"a{i}", $"{run.Name}-{i}")).ToList());
        await run.UntilAsync(() => run.Ledger.Succeeded == 200 && run.Sink.Held == 16, "200 answers and 16 handlers held downstream", TimeSpan.FromSeconds(60));
        var inFlight = run.Sink.HeldRuns.Select(r => r.Key).ToList();

        // The database goes away with 16 handlers running: their outcomes are known while it is down.
        await run.Postgres.StopServerAsync();
        var stoppedAt = run.Clock.Elapsed;
        run.Sink.Release();
        await run.PublishAsync(Enumerable.Range(0, 500).Select(i => FaultMessage.Json($"b{i}", $"{run.Name}-{300 + i}")).ToList());
        var rest = Outage - (run.Clock.Elapsed - stoppedAt);
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest);
        }

        await run.Postgres.StartServerAsync();
        var startedAt = run.Clock.Elapsed;
        await run.SettledAsync(TimeSpan.FromSeconds(120));
        var recovered = run.Clock.Elapsed - startedAt;

        // The keys that finished during the outage, again: answered from the window, not run.
        await run.PublishAsync(inFlight.Select((k, i) => FaultMessage.Json($"c{i}", k)).ToList());
        await run.FinishAsync(TimeSpan.FromSeconds(60));
        run.Note($"PostgreSQL down {FaultCase.Seconds(startedAt - stoppedAt)} with 16 handlers in flight and 500 messages arriving; all settled {FaultCase.Seconds(recovered)} after it came back");

        Assert.True(run.Ledger.Dead.Count == 0, $"Business messages dead-lettered for a database outage: {string.Join(", ", run.Ledger.DeadByReason().Select(r => $"{r.Key}: {r.Value}"))}");
        run.AssertRuns(Enumerable.Range(0, 800).Select(i => $"{run.Name}-{i}"), _ => 1, "each exactly once, also those whose handler finished while the database was down");
    }
}
