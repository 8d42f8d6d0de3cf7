namespace JobDedup.RabbitMq.Consuming.Acking;

/// <summary>One frame the ack window writes, in order, or a marker completed once every frame before it is written.</summary>
/// <param name="Kind">What to write.</param>
/// <param name="DeliveryTag">The tag it covers (up to, for a multiple ack).</param>
/// <param name="Written">Completed with true once written, false when dropped with its connection; null for none.</param>
internal readonly record struct WireOp(WireOpKind Kind, ulong DeliveryTag, TaskCompletionSource<bool>? Written);

/// <summary>The frames of an ack window.</summary>
internal enum WireOpKind
{
    /// <summary><c>basic.ack</c> with multiple: every outstanding tag up to this one.</summary>
    AckUpTo,

    /// <summary><c>basic.ack</c> of this tag alone (a ready delivery stuck behind an older one).</summary>
    AckOne,

    /// <summary><c>basic.nack</c> with requeue of this tag alone.</summary>
    Requeue,

    /// <summary>No frame: completes once everything queued before it is written.</summary>
    Marker,
}
