namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>Whether an ack window lists deliveries.</summary>
internal enum WindowState
{
    /// <summary>Its connection is up: deliveries are listed in the current generation.</summary>
    Open,

    /// <summary>Its connection dropped: everything listed went stale, and nothing is listed until the client recovers it.</summary>
    Closed,

    /// <summary>Its channel is gone for good (replaced or closed): nothing is listed again.</summary>
    Retired,
}
