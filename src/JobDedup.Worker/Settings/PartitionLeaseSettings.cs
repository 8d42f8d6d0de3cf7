namespace JobDedup.Worker.Settings;

/// <summary>Where and how a partitioned pipeline's workers share out the partitions (see docs/scaling.md).</summary>
public sealed class PartitionLeaseSettings
{
    /// <summary>Gets or sets the PostgreSQL connection string of the lease tables.</summary>
    /// <value>The default is <see langword="null"/>: the pipeline's <see cref="PipelineSettings.PostgreSql"/>.</value>
    public string? PostgreSql { get; set; }

    /// <summary>Gets or sets the schema of the lease tables (created if missing).</summary>
    /// <value>The default is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>Gets or sets the prefix of the two lease tables.</summary>
    /// <value>The default is <c>jobdedup_partition</c>.</value>
    public string TablePrefix { get; set; } = "jobdedup_partition";

    /// <summary>Gets or sets how often a worker renews its membership; a worker that dies loses its partitions five heartbeats after its last renewal.</summary>
    /// <value>The default is 500 milliseconds.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets how long a worker that stopped renewing keeps its partitions while its database session still looks open.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan MemberTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
