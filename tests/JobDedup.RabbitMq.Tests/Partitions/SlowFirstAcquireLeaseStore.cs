using System.Diagnostics;
using JobDedup.Partitions;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>
/// A lease store whose first acquisition answers "yours" only once the renewal before it is older than
/// <see cref="IPartitionLeaseStore.FenceAfter"/>: the instance then holds a lease it may no longer start consuming on
/// that renewal's word. The rest it passes on.
/// </summary>
internal sealed class SlowFirstAcquireLeaseStore(IPartitionLeaseStore inner) : LeaseStoreDecorator(inner)
{
    private long _renewalStarted = Stopwatch.GetTimestamp();
    private int _acquisitions;

    /// <summary>Gets the partition whose acquisition answered late, once it has.</summary>
    public int? SlowPartition { get; private set; }

    public override Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        Volatile.Write(ref _renewalStarted, Stopwatch.GetTimestamp());
        return Inner.RenewAsync(group, member, cancellationToken);
    }

    public override async Task<bool> TryAcquireAsync(string group, string member, int partition, CancellationToken cancellationToken = default)
    {
        var acquired = await Inner.TryAcquireAsync(group, member, partition, cancellationToken);
        if (Interlocked.Increment(ref _acquisitions) == 1)
        {
            // The precondition is time itself: the renewal this acquisition follows must have run out.
            var left = FenceAfter - Stopwatch.GetElapsedTime(Volatile.Read(ref _renewalStarted));
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, CancellationToken.None);
            }

            SlowPartition = partition;
        }

        return acquired;
    }
}
