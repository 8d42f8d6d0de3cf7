using JobDedup.Faults.Tests.Servers;
using JobDedup.Faults.Tests.Traffic;
using Xunit.Abstractions;

namespace JobDedup.Faults.Tests.Cases;

[Collection(FaultCollection.Name)]
public sealed class BrokerOutageTests(FaultServers servers, ITestOutputHelper output)
{
    public enum BrokerFault
    {
        /// <summary>rabbitmqctl close_all_connections on the suite's node.</summary>
        CloseAllConnections,

        /// <summary>rabbitmqctl stop_app, then start_app, on the suite's node.</summary>
        RestartApp,
    }

    [Theory]
    [InlineData(BrokerFault.CloseAllConnections)]
    [InlineData(BrokerFault.RestartApp)]
    public async Task Broker_FaultWhileHandlersRun_EveryMessageAnsweredEachKeyRunOnceNothingDeadLettered(BrokerFault fault)
    {
        await using var run = await FaultCase.StartAsync(servers, output, fault == BrokerFault.CloseAllConnections ? "close-connections" : "restart-app");
        var worker = run.StartWorker("w1", run.Settings("w1"));
        await worker.WaitConsumingAsync();

        // 400 messages over keys 0..199, the downstream answers 100 requests and then holds every handler slot.
        run.Sink.HoldAfter(100);
        await run.PublishAsync(Enumerable.Range(0, 400).Select(i => FaultMessage.Json($"a{i}", $"{run.Name}-{i % 200}")).ToList());
        await run.UntilAsync(() => run.Sink.Held == 16, "16 handlers held downstream", TimeSpan.FromSeconds(60));

        var faultAt = run.Clock.Elapsed;
        if (fault == BrokerFault.CloseAllConnections)
        {
            await PrivateRabbitMq.CloseAllConnectionsAsync();
            run.Sink.Release();
        }
        else
        {
            // The held handlers finish while the broker is down, with no channel to settle on. Released only after
            // the restart, they were held as long as the restart took: on a loaded machine more than the worker's
            // 10 s per request, and the HTTP client sent each of them again, which this case would count as a rerun.
            await PrivateRabbitMq.StopAppAsync();
            run.Sink.Release();
            await run.RabbitMq.StartAppAsync();
        }

        // Keys 100..299 after the fault: half of them duplicates of keys already seen.
        await run.PublishAsync(Enumerable.Range(0, 400).Select(i => FaultMessage.Json($"b{i}", $"{run.Name}-{100 + (i % 200)}")).ToList());
        await run.FinishAsync(TimeSpan.FromSeconds(90));
        run.Note($"{fault}: every message answered {FaultCase.Seconds(run.Clock.Elapsed - faultAt)} after the fault (including the final checks)");

        run.AssertRuns(Enumerable.Range(0, 300).Select(i => $"{run.Name}-{i}"), _ => 1, "each exactly once");
        Assert.Empty(run.Ledger.Dead);
    }
}
