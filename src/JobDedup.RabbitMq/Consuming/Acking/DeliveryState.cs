namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>Where one delivery stands, from its arrival to the frame that settles it on the broker.</summary>
/// <remarks>
/// <code>
/// Received ──► InProgress ──► Settling ──► Ready ──► Acked
///    │             │             └───────────────► Requeued
///    └─► Stale ◄───┴─────────────┴──────── (connection or channel lost)
/// </code>
/// Only <see cref="Ready"/> deliveries are ever covered by an ack; a delivery still <see cref="InProgress"/> or
/// <see cref="Settling"/> stops every multiple ack below it.
/// </remarks>
internal enum DeliveryState
{
    /// <summary>Copied from the client's callback, not listed in a window yet.</summary>
    Received,

    /// <summary>Listed in its window; its job runs (or waits to run).</summary>
    InProgress,

    /// <summary>Claimed by the one settlement allowed to settle it (ack, retry, park, dead letter or requeue).</summary>
    Settling,

    /// <summary>Its ack is wanted; the window writes it with the next multiple ack, or on its own after a pause.</summary>
    Ready,

    /// <summary>Its ack is queued for the wire (or written); it is no longer listed.</summary>
    Acked,

    /// <summary>Its nack with requeue is queued for the wire (or written); it is no longer listed.</summary>
    Requeued,

    /// <summary>The broker took it back with the connection or channel it came on: nothing can settle it any more.</summary>
    Stale,
}
