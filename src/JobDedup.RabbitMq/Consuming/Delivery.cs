namespace JobDedup.RabbitMq.Consuming;

/// <summary>One delivery held by the consumer until it is settled exactly once (ack, retry, dead letter, park or requeue).</summary>
internal sealed class Delivery(ulong deliveryTag, RabbitMqMessage message)
{
    private int _claimed;

    public ulong DeliveryTag { get; } = deliveryTag;

    public RabbitMqMessage Message { get; } = message;

    /// <summary>Gets or sets the dedupe key, once known.</summary>
    public string? Key { get; set; }

    /// <summary>Claims the right to settle; only the first caller gets it.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;
}
