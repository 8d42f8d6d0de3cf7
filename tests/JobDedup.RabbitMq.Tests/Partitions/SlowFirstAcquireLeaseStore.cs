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
    private int _slowPartition = -1;
    private int _unconsumedAtNextRenewal = -1;

    /// <summary>
    /// Gets or sets whether the instance consumes a partition now (null while it cannot tell); asked at the renewals
    /// after the late grant until it tells.
    /// </summary>
    public Func<int, bool?>? IsConsumed { get; set; }

    /// <summary>Gets the partition whose acquisition answered late, or -1 before it has.</summary>
    public int SlowPartition => Volatile.Read(ref _slowPartition);

    /// <summary>
    /// Gets whether the late-granted partition was still not consumed when the next renewal began (the state the test
    /// is about): 1 yes, 0 no, -1 not known yet.
    /// </summary>
    public int UnconsumedAtNextRenewal => Volatile.Read(ref _unconsumedAtNextRenewal);

    public override Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        if (SlowPartition is >= 0 and var slow && UnconsumedAtNextRenewal < 0 && IsConsumed?.Invoke(slow) is { } consumed)
        {
            Volatile.Write(ref _unconsumedAtNextRenewal, consumed ? 0 : 1);
        }

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

            Volatile.Write(ref _slowPartition, partition);
        }

        return acquired;
    }
}
