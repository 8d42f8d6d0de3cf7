namespace JobDedup.Partitions;

/// <summary>
/// Decides which instance consumes which partition of a partitioned queue: a membership with a heartbeat per instance,
/// and one lease per partition, held by at most one live member at a time. A member that stops renewing (it crashed,
/// or lost its connection to the store) stops being live, and its leases may then be acquired by the others.
/// </summary>
/// <remarks>
/// The consumer calls <see cref="RenewAsync"/> every <see cref="HeartbeatInterval"/>, and stops consuming every
/// partition by itself when no renewal has succeeded for <see cref="FenceAfter"/>: an implementation must not let
/// another member acquire those leases sooner than that after the member's last successful renewal.
/// </remarks>
public interface IPartitionLeaseStore
{
    /// <summary>Gets how often a member renews its membership.</summary>
    TimeSpan HeartbeatInterval { get; }

    /// <summary>
    /// Gets how long after its last successful renewal a member still counts as the owner of its leases in the worst
    /// case for itself (the shortest time after which another member may take them over).
    /// </summary>
    TimeSpan FenceAfter { get; }

    /// <summary>Joins the group, or renews the membership, and returns the group as the store sees it now.</summary>
    /// <param name="group">The partitioned queue the members share.</param>
    /// <param name="member">This instance's member id, unique in the group.</param>
    /// <param name="cancellationToken">Cancels the renewal.</param>
    /// <returns>The live members and the owner of every leased partition whose owner is live.</returns>
    Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default);

    /// <summary>Takes the lease of a partition that no live member holds.</summary>
    /// <param name="group">The partitioned queue.</param>
    /// <param name="member">This instance's member id.</param>
    /// <param name="partition">The partition, from 0.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns><see langword="true"/> when <paramref name="member"/> holds the lease now.</returns>
    Task<bool> TryAcquireAsync(string group, string member, int partition, CancellationToken cancellationToken = default);

    /// <summary>Gives up a lease this member holds (nothing happens if it holds it no more).</summary>
    /// <param name="group">The partitioned queue.</param>
    /// <param name="member">This instance's member id.</param>
    /// <param name="partition">The partition, from 0.</param>
    /// <param name="cancellationToken">Cancels the release.</param>
    /// <returns>A task that completes when the lease is free.</returns>
    Task ReleaseAsync(string group, string member, int partition, CancellationToken cancellationToken = default);

    /// <summary>Leaves the group: every lease of this member is released and it stops counting as a member.</summary>
    /// <param name="group">The partitioned queue.</param>
    /// <param name="member">This instance's member id.</param>
    /// <param name="cancellationToken">Cancels the leave.</param>
    /// <returns>A task that completes when the member is gone.</returns>
    Task LeaveAsync(string group, string member, CancellationToken cancellationToken = default);
}
