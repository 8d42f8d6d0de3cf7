namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>How a delivery is settled on the broker.</summary>
internal enum SettlementKind
{
    /// <summary>Ack it (then reply, when the message asks for one).</summary>
    Ack,

    /// <summary>Republish it to a retry queue, one delivery attempt further, then ack the original.</summary>
    Retry,

    /// <summary>Republish it to the first retry queue without counting an attempt (its key holds enough), then ack.</summary>
    Park,

    /// <summary>Republish it to the dead-letter exchange with the reason in headers, then ack (and send an error reply).</summary>
    DeadLetter,

    /// <summary>Nack it with requeue: the consumer or the deduplicator is stopping.</summary>
    Requeue,
}
