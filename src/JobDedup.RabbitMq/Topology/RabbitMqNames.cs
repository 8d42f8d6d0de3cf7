namespace JobDedup.RabbitMq.Topology;

/// <summary>Names derived from a work queue's name, shared by the consumer and the publisher.</summary>
internal static class RabbitMqNames
{
    /// <summary>The consistent-hash exchange in front of a partitioned work queue.</summary>
    public static string PartitionExchange(string queue) => $"{queue}.partitions";

    /// <summary>One partition queue of a partitioned work queue.</summary>
    public static string PartitionQueue(string queue, int partition) => $"{queue}.partition.{partition}";
}
