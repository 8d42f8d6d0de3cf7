namespace JobDedup.RabbitMq.Partitions;

/// <summary>Where one instance stands in its group after a renewal.</summary>
/// <param name="Share">How many partitions it should consume.</param>
/// <param name="Members">How many live instances the group has, itself included.</param>
internal sealed record PartitionStanding(int Share, int Members);
