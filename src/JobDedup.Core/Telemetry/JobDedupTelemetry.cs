namespace JobDedup;

/// <summary>Names under which JobDedup publishes metrics and traces.</summary>
public static class JobDedupTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and the <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string Name = "JobDedup";

    /// <summary>The tag naming the deduplicator on every instrument. The dedupe key is never a tag.</summary>
    public const string DeduplicatorTag = "jobdedup.deduplicator";
}
