using System.Collections.Concurrent;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit.Abstractions;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>An outage of the outcome store pauses the consumer; no business message is dead-lettered for it.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StoreOutageTests(Broker broker, ITestOutputHelper output)
{
    private const int Messages = 200;
    private const int Keys = 150;

    [Fact]
    public async Task Consumer_PostgreSqlCutForSecondsWhileMessagesArrive_PausesAndDrainsAfterwardsWithNothingDeadLetteredAndEachKeyRunOnce()
    {
        await using var postgres = await PostgreSqlBehindProxy.StartAsync();
        await using var queue = await TestQueue.CreateAsync(broker, "store-outage");
        using var settled = new Settlements(queue.Name);
        var runs = new ConcurrentDictionary<string, int>();
        var firstRuns = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, context, ct) =>
            {
                if (runs.AddOrUpdate(context.Key, 1, (_, n) => n + 1) == 1 && runs.Count >= 10)
                {
                    firstRuns.TrySetResult();
                }

                await Task.Yield();
                return "done " + context.Key;
            },
            dedup: o =>
            {
                o.DedupeWindow = TimeSpan.FromMinutes(10);
                o.ClaimLease = TimeSpan.FromSeconds(5);
                o.StoreBreakDuration = TimeSpan.FromSeconds(1);
            },
            consumer: o => o.MaxDeliveryAttempts = 3,
            engine: b => b.UsePostgreSqlOutcomeStore(postgres.ConnectionString, o =>
            {
                o.Schema = postgres.Schema;
                o.CleanupInterval = TimeSpan.Zero;
            }));
        var consumer = Consumers.Of(host);
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();
        var monitor = Assert.IsAssignableFrom<IOutcomeStoreMonitor>(host.Deduplicator);

        // A quarter of the messages while the store answers; the store is cut while those are handled; the rest
        // (new keys, and a duplicate of each early key) arrive during the outage.
        for (var i = 0; i < 50; i++)
        {
            await queue.PublishAsync($"k{i}", "{}", messageId: $"m{i}");
        }

        await firstRuns.Task.Within();
        postgres.Proxy.Cut();
        for (var i = 50; i < Messages; i++)
        {
            var key = i < Keys ? $"k{i}" : $"k{i - Keys}";
            await queue.PublishAsync(key, "{}", messageId: $"m{i}");
        }

        await Watchdog.Until(() => consumer.IsPaused, "the consumer paused its intake");
        Assert.NotEqual(OutcomeStoreState.Available, monitor.StoreState);
        var during = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, during.Entries[$"rabbitmq-{queue.Name}"].Status);
        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) > 0, "messages wait in the queue while intake is paused");

        // The outage goes on for a few seconds: the breaker tests the store after each break, and fails.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(consumer.IsPaused, "intake stays paused while the store is down");
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Entries[$"rabbitmq-{queue.Name}"].Status);
        var requeuedDuringOutage = settled["requeue"];
        postgres.Proxy.Restore();
        var restored = Stopwatch.StartNew();

        await Watchdog.Until(() => settled["ack"] == Messages, "every message was acked after the store came back");
        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) == 0, "the queue drained");
        output.WriteLine(
            $"requeued during the outage: {requeuedDuringOutage}; requeued in all: {settled["requeue"]}; " +
            $"all {Messages} acked {restored.ElapsedMilliseconds} ms after the store came back");
        var after = await health.CheckHealthAsync();

        Assert.Equal(0, settled["dead-letter"]);
        Assert.Equal(0, settled["retry"]); // no delivery attempt was counted for the outage
        Assert.True(settled["requeue"] > 0, "deliveries in hand during the outage went back to the queue");
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(Keys, runs.Count);
        Assert.All(runs, r => Assert.True(r.Value == 1, $"key {r.Key} ran {r.Value} times"));
        Assert.False(consumer.IsPaused);
        Assert.Equal(OutcomeStoreState.Available, monitor.StoreState);
        Assert.Equal(HealthStatus.Healthy, after.Entries[$"rabbitmq-{queue.Name}"].Status);
    }
}
