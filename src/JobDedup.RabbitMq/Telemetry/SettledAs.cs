namespace JobDedup.RabbitMq.Telemetry;

/// <summary>The values of the settlement tag (<see cref="RabbitMqTelemetry.SettlementTag"/>).</summary>
internal enum SettledAs
{
    /// <summary>Acked after success.</summary>
    Ack,

    /// <summary>Republished to a retry queue, then acked.</summary>
    Retry,

    /// <summary>Parked on the first retry queue, then acked.</summary>
    Park,

    /// <summary>Dead-lettered, then acked.</summary>
    DeadLetter,

    /// <summary>Nacked with requeue.</summary>
    Requeue,

    /// <summary>Taken back by the broker with its connection; nothing was sent.</summary>
    Stale,

    /// <summary>A republish failed and is tried again later (counted per try).</summary>
    Deferred,
}
