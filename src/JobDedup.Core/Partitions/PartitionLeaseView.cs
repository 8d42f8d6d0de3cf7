namespace JobDedup.Partitions;

/// <summary>A partitioned queue's group as the lease store saw it at one renewal.</summary>
/// <param name="Members">The live members' ids, sorted ordinally (the renewing member among them).</param>
/// <param name="Owners">The owner of each partition whose lease a live member holds; a partition absent here is free.</param>
public sealed record PartitionLeaseView(IReadOnlyList<string> Members, IReadOnlyDictionary<int, string> Owners);
