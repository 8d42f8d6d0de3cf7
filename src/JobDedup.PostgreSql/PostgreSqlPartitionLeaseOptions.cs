using System.Text.RegularExpressions;

namespace JobDedup;

/// <summary>Settings of a <see cref="PostgreSqlPartitionLeaseStore"/>. Checked when the store is built.</summary>
public sealed partial class PostgreSqlPartitionLeaseOptions
{
    /// <summary>Gets or sets the Npgsql connection string of the database that holds the leases.</summary>
    /// <value>The default is empty; it must be set.</value>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Gets or sets the schema of the two lease tables; created if it does not exist.</summary>
    /// <value>The default is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the prefix of the two tables, <c>{prefix}_members</c> (one row per instance, with its heartbeat)
    /// and <c>{prefix}_leases</c> (one row per leased partition). Letters, digits and underscores, at most 40.
    /// </summary>
    /// <value>The default is <c>jobdedup_partition</c>.</value>
    public string TablePrefix { get; set; } = "jobdedup_partition";

    /// <summary>
    /// Gets or sets how often an instance renews its membership. An instance whose process dies (its database session
    /// ends with it) loses its partitions <see cref="SessionGrace"/> after its last renewal, that is five heartbeats.
    /// </summary>
    /// <value>The default is 500 milliseconds.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets how long an instance that stopped renewing keeps its partitions while its database session still
    /// looks open (its machine vanished, or the network between them broke without closing the connection).
    /// </summary>
    /// <value>The default is 10 seconds. It must be at least <see cref="SessionGrace"/>.</value>
    public TimeSpan MemberTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how long after its last renewal an instance whose database session is gone loses its partitions: five heartbeats.</summary>
    public TimeSpan SessionGrace => HeartbeatInterval * 5;

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    /// <returns>The problems; empty when the settings are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add($"{nameof(ConnectionString)} must be set to a PostgreSQL connection string.");
        }

        if (string.IsNullOrEmpty(Schema) || Schema.Length > 63 || !Identifier().IsMatch(Schema))
        {
            errors.Add($"{nameof(Schema)} must be 1 to 63 letters, digits or underscores, not starting with a digit, not '{Schema}'.");
        }

        if (string.IsNullOrEmpty(TablePrefix) || TablePrefix.Length > 40 || !Identifier().IsMatch(TablePrefix))
        {
            errors.Add($"{nameof(TablePrefix)} must be 1 to 40 letters, digits or underscores, not starting with a digit, not '{TablePrefix}'.");
        }

        if (HeartbeatInterval < TimeSpan.FromMilliseconds(50) || HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{nameof(HeartbeatInterval)} must be between 50 ms and 1 minute, not {HeartbeatInterval}.");
        }
        else if (MemberTimeout < SessionGrace || MemberTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{nameof(MemberTimeout)} must be between five heartbeats ({SessionGrace}) and 1 hour, not {MemberTimeout}.");
        }

        return errors;
    }

    /// <summary>Copies the settings, so that later changes to the caller's instance do not reach a running store.</summary>
    internal PostgreSqlPartitionLeaseOptions Clone() => (PostgreSqlPartitionLeaseOptions)MemberwiseClone();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
