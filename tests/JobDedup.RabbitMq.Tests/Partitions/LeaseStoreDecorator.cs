using JobDedup.Partitions;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>A lease store that passes every call on to <paramref name="inner"/>; a test's decorator overrides the one it changes.</summary>
internal abstract class LeaseStoreDecorator(IPartitionLeaseStore inner) : IPartitionLeaseStore
{
    protected IPartitionLeaseStore Inner => inner;

    public TimeSpan HeartbeatInterval => inner.HeartbeatInterval;

    public TimeSpan FenceAfter => inner.FenceAfter;

    public virtual Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default) =>
        inner.RenewAsync(group, member, cancellationToken);

    public virtual Task<bool> TryAcquireAsync(string group, string member, int partition, CancellationToken cancellationToken = default) =>
        inner.TryAcquireAsync(group, member, partition, cancellationToken);

    public Task ReleaseAsync(string group, string member, int partition, CancellationToken cancellationToken = default) =>
        inner.ReleaseAsync(group, member, partition, cancellationToken);

    public Task LeaveAsync(string group, string member, CancellationToken cancellationToken = default) =>
        inner.LeaveAsync(group, member, cancellationToken);
}
