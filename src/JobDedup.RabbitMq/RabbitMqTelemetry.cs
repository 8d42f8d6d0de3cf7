namespace JobDedup.RabbitMq;

/// <summary>
/// Names under which the RabbitMQ transport publishes metrics and traces. Its instruments belong to the library's one
/// meter, named <see cref="MeterName"/>, and its spans to <see cref="ActivitySourceName"/>: both the same name as the
/// engine's, <see cref="JobDedupTelemetry.Name"/>.
/// </summary>
public static class RabbitMqTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the consumer's instruments belong to.</summary>
    public const string MeterName = JobDedupTelemetry.Name;

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/> of the publisher's spans (<c>publish …</c>, kind
    /// Producer) and the consumer's (<c>process …</c>, kind Consumer, the child of the publisher's context).
    /// </summary>
    public const string ActivitySourceName = JobDedupTelemetry.Name;

    /// <summary>
    /// The counter of settled deliveries, tagged with <see cref="JobDedupTelemetry.DeduplicatorTag"/> and
    /// <see cref="SettlementTag"/>, and a dead letter also with <see cref="ReasonTag"/>. It is recorded once the frame
    /// that settles the delivery is written.
    /// </summary>
    public const string DeliveriesSettled = "jobdedup.rabbitmq.deliveries.settled";

    /// <summary>
    /// The tag saying how a delivery was settled: <c>ack</c>, <c>retry</c>, <c>park</c>, <c>dead-letter</c>,
    /// <c>requeue</c>, <c>stale</c> (taken back by the broker with its connection) or <c>deferred</c> (a republish to
    /// try again).
    /// </summary>
    public const string SettlementTag = "jobdedup.settlement";

    /// <summary>The tag giving a dead letter's reason, one of <see cref="DeadLetterReasons"/> (only on <c>dead-letter</c> settlements).</summary>
    public const string ReasonTag = "jobdedup.reason";
}
