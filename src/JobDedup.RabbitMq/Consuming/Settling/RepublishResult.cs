namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>How a republish ended.</summary>
internal enum RepublishResult
{
    /// <summary>The broker confirmed the copy: the original may be acked.</summary>
    Published,

    /// <summary>The broker took the original back with its connection: no copy was sent, it comes back by itself.</summary>
    Stale,

    /// <summary>The consumer is stopping and the copy could not be published: the original goes back to the queue.</summary>
    Abandoned,
}
