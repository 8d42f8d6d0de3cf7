using JobDedup.RabbitMq.Consuming;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

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
            dedup: o => o.DedupeWindow = TimeSpan.FromMinutes(5),
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

    [Fact]
    public async Task Consumer_BrokerCancelsTheConsumer_ResumesOrReportsUnhealthy()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "broker-cancel");
        await using var admin = await Admin.OpenAsync();
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(queue, runs.Answering("ok"));
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();

        // The queue is deleted and declared again (an operator, or a classic queue whose node went down): the broker sends
        // basic.cancel. The consumer ignores it, keeps reporting Healthy, and never consumes again.
        await admin.Channel.QueueDeleteAsync(queue.Name, ifUnused: false, ifEmpty: false);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}");

        var handled = await Eventually.HoldsAsync(() => runs.Runs == 1);
        var report = await health.CheckHealthAsync();
        var status = report.Entries[$"rabbitmq-{queue.Name}"].Status;
        Assert.True(handled || status != HealthStatus.Healthy, $"handled: {handled}; health: {status}; the queue holds {await queue.CountAsync(queue.Name)} message(s) nobody consumes");
    }

    [Fact]
    public async Task Host_StopsWhileTheConnectionIsDown_DoesNotSpinRequeuingAfterRecovery()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "stop-offline");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}");
        var gate = new Gate();
        await using var host = await ConsumerHost.StartAsync(queue, async (_, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ok";
        });
        var consumer = Consumers.Of(host);
        await gate.Reached.Within();

        await BrokerControl.CloseConnectionAsync($"jobdedup:{queue.Name}");
        await Watchdog.Until(() => !consumer.IsConnected, "the consumer saw the connection go");

        // Stop starts while the channel is closed, so BasicCancel is skipped; recovery then re-registers the consumer and
        // every delivery during the drain is nacked with requeue and redelivered at once.
        var stopping = host.StopAsync();
        await Watchdog.Until(() => consumer.State == ConsumerState.Stopping, "the consumer is stopping");
        await Watchdog.Until(() => consumer.IsConnected, "the connection recovered");
        var spinning = await Eventually.HoldsAsync(() => settled["requeue"] > 20, TimeSpan.FromSeconds(5));
        gate.Open();
        await stopping.Within();

        Assert.False(spinning, $"{settled["requeue"]} requeues of one message while stopping");
        Assert.Equal(1u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_DeliveryFromBeforeARecovery_IsNotDeadLetteredTwice()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "stale-tag");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}", messageId: "m-1");
        var gate = new Gate();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (_, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                throw new ArgumentException("card declined");
            },
            dedup: o => o.IsPermanentFailure = ex => ex is ArgumentException);
        var consumer = Consumers.Of(host);
        await gate.Reached.Within();

        // The connection drops while the flight runs: the broker requeues m-1 and redelivers it after recovery; the copy
        // joins the same flight. Both deliveries then fail, and both are dead-lettered, although the first one's ack is a
        // no-op on the recovered channel (stale tag) and the broker already holds the message again.
        await BrokerControl.CloseConnectionAsync($"jobdedup:{queue.Name}");
        await Watchdog.Until(() => !consumer.IsConnected, "the consumer saw the connection go");
        await Watchdog.Until(() => consumer.IsConnected && host.Deduplicator.GetStats().Hits == 1, "the redelivered copy joined the flight");
        gate.Open();
        await Watchdog.Until(() => consumer.Pending == 0 && settled["dead-letter"] >= 1, "both deliveries settled");
        await host.StopAsync();

        var letters = await queue.DrainAsync(queue.DeadLetterQueue);
        Assert.Equal(1, runs);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Single(letters);
    }
}
