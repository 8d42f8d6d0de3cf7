using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Consuming.Settling;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>Takes one queue's deliveries on one channel; the client calls it one delivery at a time, in tag order.</summary>
/// <remarks>
/// Subclassing the client's consumer (rather than its eventing one) hands each delivery over without an event-args
/// object, and tells a cancel sent by the broker (queue deleted, node down) apart from a channel shutdown. The client
/// dispatches a consumer's deliveries and its cancel-ok in the order they arrived, so once <see cref="Ended"/>
/// completes, every delivery it will ever hand over has been handed over.
/// </remarks>
internal sealed class DeliveryConsumer(IChannel channel, AckWindow window, QueueTally tally, DeliveryHandler onDelivery, Action<DeliveryConsumer> onBrokerCancel)
    : AsyncDefaultBasicConsumer(channel)
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the queue it consumes.</summary>
    public string Queue => tally.Queue;

    /// <summary>Gets or sets the consumer tag the broker gave it (changed by the client's recovery).</summary>
    public string Tag { get; set; } = string.Empty;

    /// <summary>Gets a task that completes when it takes no more deliveries: cancelled, by us (cancel-ok) or by the broker.</summary>
    public Task Ended => _ended.Task;

    public override Task HandleBasicDeliverAsync(
        string consumerTag,
        ulong deliveryTag,
        bool redelivered,
        string exchange,
        string routingKey,
        IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken = default) =>
        onDelivery(window, tally, new DeliveryFrame(deliveryTag, redelivered, exchange, routingKey, properties, body));

    public override async Task HandleBasicCancelAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _ended.TrySetResult();
        onBrokerCancel(this);
    }

    public override async Task HandleBasicCancelOkAsync(string consumerTag, CancellationToken cancellationToken = default)
    {
        await base.HandleBasicCancelOkAsync(consumerTag, cancellationToken).ConfigureAwait(false);
        _ended.TrySetResult();
    }
}
