namespace JobDedup.Worker.Settings;

/// <summary>How the workers of a partitioned pipeline decide who consumes which partition.</summary>
public enum PartitionAssignment
{
    /// <summary>Leases in PostgreSQL: each worker consumes its share of the partitions, and they rebalance when one joins or leaves.</summary>
    Leases,

    /// <summary>
    /// Without a database: every worker subscribes to every partition and the broker makes one of them active on each.
    /// The partitions do not spread: one worker usually takes them all and the others stand by.
    /// </summary>
    SingleActiveConsumer,
}
