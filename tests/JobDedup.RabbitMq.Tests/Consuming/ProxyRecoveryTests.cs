using System.Collections.Concurrent;
using JobDedup.RabbitMq.Tests.Support;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>
/// Losses the client notices by itself, with no connection close announced by the broker: the consumer's connections
/// reset through a <see cref="TcpFaultProxy"/> (a network failure), and a channel the broker closes on an open
/// connection.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ProxyRecoveryTests(Broker broker)
{
    private const int AfterRecovery = 6;

    [Fact]
    public async Task Consumer_ConnectionsResetByTheNetwork_AcksEveryMessagePublishedAfterRecovery()
    {
        var target = new Uri(Broker.Uri);
        await using var proxy = TcpFaultProxy.Start(target.Host, target.Port);
        await using var queue = await TestQueue.CreateAsync(broker, "proxy-reset");
        using var settled = new Settlements(queue.Name);
        var handled = new ConcurrentQueue<string>();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (message, _, _) =>
            {
                handled.Enqueue(message.Redelivered ? $"{message.MessageId} (redelivered)" : message.MessageId!);
                return ValueTask.FromResult("ok");
            },
            consumer: o =>
            {
                o.ConnectionUri = new UriBuilder(Broker.Uri) { Host = proxy.Host, Port = proxy.Port }.Uri.ToString();
                o.RecoveryInterval = TimeSpan.FromMilliseconds(200);
            });
        var consumer = Consumers.Of(host);
        await Watchdog.Until(() => consumer.IsConsuming, "the consumer reached the broker through the proxy");
        await queue.PublishAsync("before", "{}", messageId: "before");
        await Watchdog.Until(() => settled["ack"] == 1, "the message published before the reset was acked");

        // The ack must have reached the broker, not only the socket: else the reset loses it and the broker (rightly)
        // delivers the message again.
        await Watchdog.Until(async () => await BrokerControl.UnackedAsync(queue.Name) == 0, "the broker received the first ack");
        var generation = consumer.ConnectionGeneration;

        proxy.DropConnections();
        await Watchdog.Until(() => consumer.ConnectionGeneration != generation, "the consumer saw its connection reset");
        await Watchdog.Until(() => consumer.IsConsuming, "the consumer recovered");
        for (var i = 0; i < AfterRecovery; i++)
        {
            await queue.PublishAsync($"after-{i}", "{}", messageId: $"after-{i}");
        }

        var acked = await Eventually.HoldsAsync(() => settled["ack"] == 1 + AfterRecovery, TimeSpan.FromSeconds(20));
        var state =
            $"acks {settled["ack"]} of {1 + AfterRecovery}, stale {settled["stale"]}, requeued {settled["requeue"]}; " +
            $"handled [{string.Join(", ", handled)}]; consumer {consumer.State}, consuming {consumer.IsConsuming}, " +
            $"connected {consumer.IsConnected}, generation {generation} -> {consumer.ConnectionGeneration}, " +
            $"listed {consumer.ListedDeliveries}, pending {consumer.Pending}, consumed queues [{string.Join(", ", consumer.ConsumedQueues)}]; " +
            $"queue holds {await queue.CountAsync(queue.Name)} ready and {await BrokerControl.UnackedAsync(queue.Name)} unacked; proxy accepted {proxy.AcceptedConnections}, open {proxy.OpenConnections}";
        Assert.True(acked, state);
        await host.StopAsync();
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_BrokerClosesTheChannelOnAnOpenConnection_ResumesOnANewChannel()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "channel-closed");
        using var settled = new Settlements(queue.Name);
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) => ValueTask.FromResult("ok"));
        var consumer = Consumers.Of(host);
        await Watchdog.Until(() => consumer.IsConsuming, "the consumer started");
        var channel = consumer.ConsumingChannel!;

        // An ack of a tag the broker never sent: the broker closes this channel (PRECONDITION_FAILED), the connection stays.
        await channel.BasicAckAsync(999_999, multiple: false);
        await Watchdog.Until(() => !channel.IsOpen, "the broker closed the channel");
        await queue.PublishAsync("after", "{}", messageId: "after");

        var acked = await Eventually.HoldsAsync(() => settled["ack"] == 1, TimeSpan.FromSeconds(20));
        Assert.True(acked, $"acks {settled["ack"]}; consumer {consumer.State}, consuming {consumer.IsConsuming}, connected {consumer.IsConnected}, generation {consumer.ConnectionGeneration}; queue holds {await queue.CountAsync(queue.Name)} ready");
    }
}
