namespace JobDedup.Worker.Tests.Support;

/// <summary>What a worker last said of its partitions: those it consumes, its share, and the group's size it saw.</summary>
public sealed record PartitionReport(HashSet<int> Consumed, int Share, int Members)
{
    /// <summary>Gets a value indicating whether the worker consumes exactly its share of a group of <paramref name="members"/>.</summary>
    public bool IsSettledAmong(int members) => Members == members && Consumed.Count == Share;
}
