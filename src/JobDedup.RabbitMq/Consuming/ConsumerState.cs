namespace JobDedup.RabbitMq.Consuming;

/// <summary>Where a consumer is in its life as a hosted service.</summary>
internal enum ConsumerState
{
    /// <summary>Not started, or stopped.</summary>
    Stopped,

    /// <summary>Starting: connecting and registering the consumers.</summary>
    Starting,

    /// <summary>Started, but the broker could not be reached yet: connecting in the background with backoff.</summary>
    Connecting,

    /// <summary>Taking deliveries (or trying to, while its connection recovers).</summary>
    Running,

    /// <summary>Stopping: no new deliveries; the ones in progress are settled or returned to the queue.</summary>
    Stopping,
}
