namespace JobDedup.RabbitMq.Consuming;

/// <summary>One delivery held by the consumer until it is settled exactly once (ack, retry, dead letter, park or requeue).</summary>
/// <param name="window">The acks of the channel it arrived on: its tag means something only there.</param>
/// <param name="generation">The consumer's connection generation when it arrived; a later one means the broker already took it back.</param>
/// <param name="deliveryTag">The broker's tag for it on its channel.</param>
/// <param name="message">The message.</param>
internal sealed class Delivery(AckWindow window, int generation, ulong deliveryTag, RabbitMqMessage message)
{
    private int _claimed;
    private int _finished;

    public AckWindow Window { get; } = window;

    /// <summary>Gets or sets where its ack stands in <see cref="Window"/> (guarded by the window).</summary>
    public int AckState { get; set; }

    public int Generation { get; } = generation;

    public ulong DeliveryTag { get; } = deliveryTag;

    public RabbitMqMessage Message { get; } = message;

    /// <summary>Gets or sets the dedupe key, once known.</summary>
    public string? Key { get; set; }

    /// <summary>Claims the right to settle; only the first caller gets it.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Marks the ack or nack as sent (or no longer possible); true only the first time, so none is sent twice.</summary>
    public bool TryFinish() => Interlocked.Exchange(ref _finished, 1) == 0;
}
