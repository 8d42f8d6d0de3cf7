namespace JobDedup.RabbitMq.Partitions;

/// <summary>Where one partition is for this instance.</summary>
/// <remarks>
/// <code>
/// Free ──acquire──► Held ──subscribe──► Consuming ──give up──► Draining ──settled, released──► Free
///                    └────────────── lost, or fenced (no renewal in time) ──────────────► Free
/// </code>
/// </remarks>
internal enum PartitionState
{
    /// <summary>This instance holds no lease on it.</summary>
    Free,

    /// <summary>Leased, and not consumed yet (the subscription failed, or is about to be made).</summary>
    Held,

    /// <summary>Leased and consumed.</summary>
    Consuming,

    /// <summary>Being given up: no longer consumed; the lease is released once every delivery taken from it is settled.</summary>
    Draining,
}
