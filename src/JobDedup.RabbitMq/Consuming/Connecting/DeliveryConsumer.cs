using JobDedup.RabbitMq.Consuming.Acking;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>Takes one queue's deliveries on one channel; the client calls it one delivery at a time, in tag order.</summary>
/// <remarks>
/// Subclassing the client's consumer (rather than its eventing one) hands each delivery over without an event-args
/// object, and tells a cancel sent by the broker (queue deleted, node down) apart from a channel shutdown.
/// </remarks>
internal sealed class DeliveryConsumer(IChannel channel, AckWindow window, DeliveryHandler onDelivery, Action<DeliveryConsumer> onBrokerCancel)
    : AsyncDefaultBasicConsumer(channel)
{
    public override Task HandleBasicDeliverAsync(
        string consumerTag,
        ulong deliveryTag,
        bool redelivered,
        string exchange,
        string routingKey,
        IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken = default) =>
        onDelivery(window, new DeliveryFrame(deliveryTag, redelivered, exchange, routingKey, properties, body));

    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        onBrokerCancel(this);
    }
}
