namespace JobDedup;

/// <summary>Settings of a <see cref="SharedCall{TKey, TResult}"/>.</summary>
public sealed class SharedCallOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the work keeps running after every caller has left. When false, the
    /// work's token fires as the last caller leaves.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RunToCompletionWhenAbandoned { get; set; }

    /// <summary>
    /// Gets or sets the name the shared call's metrics are tagged with (<see cref="JobDedupTelemetry.DeduplicatorTag"/>).
    /// </summary>
    /// <value>The default is <c>shared-call</c>.</value>
    public string Name { get; set; } = "shared-call";
}
