using JobDedup.Partitions;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>A lease store whose leases cannot be taken until <see cref="Recover"/> is called; the rest it passes on.</summary>
internal sealed class AcquireFailingLeaseStore(IPartitionLeaseStore inner) : LeaseStoreDecorator(inner)
{
    private int _failed;
    private volatile bool _recovered;

    /// <summary>Gets how many acquisitions failed.</summary>
    public int FailedAcquisitions => Volatile.Read(ref _failed);

    /// <summary>Lets acquisitions through from now on.</summary>
    public void Recover() => _recovered = true;

    public override Task<bool> TryAcquireAsync(string group, string member, int partition, CancellationToken cancellationToken = default)
    {
        if (_recovered)
        {
            return Inner.TryAcquireAsync(group, member, partition, cancellationToken);
        }

        Interlocked.Increment(ref _failed);
        throw new TimeoutException("the lease store did not answer in time");
    }
}
