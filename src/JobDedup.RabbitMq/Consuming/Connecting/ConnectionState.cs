namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>Where the consuming connection is in its life.</summary>
/// <remarks>
/// <code>
/// Idle ──► Connecting ──► Consuming ◄──► Interrupted   (connection lost; the client recovers it)
///   ▲          │              ▲ └─────► Resuming      (channel or consumer lost on an open connection; re-created here)
///   └──────────┘ (failed)     └─────────┘
/// Consuming / Interrupted / Resuming ──► Draining (consumers cancelled) ──► Closed
/// Consuming / Interrupted ──► Paused (consumers cancelled: the outcome store is down) ──► Consuming (or Resuming)
/// </code>
/// </remarks>
internal enum ConnectionState
{
    /// <summary>Not connected yet (or the last attempt failed).</summary>
    Idle,

    /// <summary>Connecting, declaring the topology and registering the consumers.</summary>
    Connecting,

    /// <summary>Deliveries flow.</summary>
    Consuming,

    /// <summary>The connection dropped; the client's automatic recovery brings it back with the channel and consumers.</summary>
    Interrupted,

    /// <summary>The broker closed the channel or cancelled a consumer on an open connection; a new channel is opened here.</summary>
    Resuming,

    /// <summary>
    /// Intake paused: the consumers are cancelled because the deduplicator's outcome store is unavailable; deliveries
    /// in hand are still settled (sent back to the queue), and the connection stays open.
    /// </summary>
    Paused,

    /// <summary>Stopping: the consumers are cancelled, deliveries in progress are settled, nothing new is taken.</summary>
    Draining,

    /// <summary>Closed for good.</summary>
    Closed,
}
