namespace JobDedup;

/// <summary>Names under which JobDedup publishes metrics and traces.</summary>
public static class JobDedupTelemetry
{
    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and of the
    /// <see cref="System.Diagnostics.ActivitySource"/> of the engine; the transports (RabbitMQ, Redis) publish under the
    /// same name.
    /// </summary>
    public const string Name = "JobDedup";

    /// <summary>The tag naming the deduplicator (or shared call) on every instrument. The dedupe key is never a tag.</summary>
    public const string DeduplicatorTag = "jobdedup.deduplicator";

    /// <summary>The tag saying how a caller was answered: <c>leader</c>, <c>joined</c> or <c>replayed</c>; <c>conflict</c> for a caller refused for a different payload fingerprint.</summary>
    public const string RoleTag = "jobdedup.role";

    /// <summary>The tag giving a flight's final status: <c>succeeded</c>, <c>failed</c>, <c>canceled</c>, <c>rejected</c>, <c>unavailable</c> or <c>conflict</c>.</summary>
    public const string StatusTag = "jobdedup.status";

    /// <summary>The span of one handler attempt, a child of the leading caller's context, linked to every joined caller.</summary>
    public const string HandleSpan = "jobdedup.handle";

    /// <summary>The span, in a joined caller's trace, of its wait for a run it joined; it links to that run's span.</summary>
    public const string JoinSpan = "jobdedup.join";

    /// <summary>The span, in a caller's trace, of an answer replayed from the dedupe window without a run.</summary>
    public const string ReplaySpan = "jobdedup.replay";
}
