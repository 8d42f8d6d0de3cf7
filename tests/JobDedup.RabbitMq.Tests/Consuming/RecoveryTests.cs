using JobDedup.RabbitMq.Tests.Support;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>Connection losses and recoveries: what happens to the deliveries in progress and to acks afterwards.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RecoveryTests(Broker broker)
{
    [Fact]
    public async Task Consumer_DeliveryReceivedWhileTheConnectionDrops_IsNeverLeftPendingAndAcksFlowAfterRecovery()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "drop-in-receive");
        using var settled = new Settlements(queue.Name);
        var handled = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref handled);
                return ValueTask.FromResult("ok");
            },
            dedup: o => o.CompletedRetention = TimeSpan.FromMinutes(5),
            consumer: o => o.RecoveryInterval = TimeSpan.FromSeconds(5));
        var consumer = Consumers.Of(host);

        // The first delivery is held after its body is copied and before the consumer lists it; the connection drops
        // right then, and the consumer's shutdown handler runs before the delivery goes on.
        var copied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = 1;
        consumer.DeliveryCopied = async _ =>
        {
            if (Interlocked.Exchange(ref first, 0) == 1)
            {
                copied.TrySetResult();
                await release.Task;
            }
        };
        await queue.PublishAsync("caught", "{}");
        await copied.Task.Within();
        var generation = consumer.ConnectionGeneration;
        await BrokerControl.CloseConnectionAsync($"jobdedup:{queue.Name}");
        await Watchdog.Until(() => consumer.ConnectionGeneration != generation, "the consumer handled the connection loss");
        release.TrySetResult();

        // The broker took the delivery back with its connection: it must not be listed in the window (where, still in
        // progress in the window's eyes, it would block every multiple ack after it), and nothing may wait for it.
        // The recovery interval keeps the connection down meanwhile.
        await Watchdog.Until(() => settled["stale"] == 1 && consumer.Pending == 0, "the caught delivery was recognised as taken back");
        var listedWhileDown = consumer.ListedDeliveries;
        Assert.False(consumer.IsConnected, "the connection recovered sooner than the test allows for");

        // After recovery the broker hands the message back; new work is acked, leaving nothing listed.
        await Watchdog.Until(() => consumer.IsConsuming, "the consumer recovered");
        for (var i = 0; i < 20; i++)
        {
            await queue.PublishAsync($"after-{i}", "{}");
        }

        await Watchdog.Until(
            async () => await queue.CountAsync(queue.Name) == 0 && consumer.Pending == 0 && Volatile.Read(ref handled) >= 21,
            "the caught message and the 20 later ones handled");
        var drained = await Eventually.HoldsAsync(() => consumer.ListedDeliveries == 0);

        Assert.Equal(0, listedWhileDown);
        Assert.True(drained, $"{consumer.ListedDeliveries} deliveries still listed in the ack window after everything settled");
        await host.StopAsync();
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }
}
