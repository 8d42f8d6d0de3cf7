using JobDedup.Partitions;

namespace JobDedup.RabbitMq.Tests.Partitions;

/// <summary>
/// A lease store whose renewals can be held: once <see cref="Hold"/> is called, a renewal waits (whatever its token
/// says, as a store that hangs does) until the condition given there holds, then renews. The rest it passes on.
/// </summary>
internal sealed class RenewalHoldingLeaseStore(IPartitionLeaseStore inner) : LeaseStoreDecorator(inner)
{
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(30);
    private volatile Func<bool>? _until;
    private int _released;

    /// <summary>Gets how many held renewals went through.</summary>
    public int Released => Volatile.Read(ref _released);

    /// <summary>Gets whether the last held renewal saw its condition come true (rather than giving up after 30 s).</summary>
    public bool LastHoldMet { get; private set; }

    /// <summary>Gets how long the last held renewal waited.</summary>
    public TimeSpan LastHold { get; private set; }

    /// <summary>Holds renewals until <paramref name="until"/> is true (checked every millisecond, for at most 30 s).</summary>
    public void Hold(Func<bool> until) => _until = until;

    public override async Task<PartitionLeaseView> RenewAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        if (_until is { } until)
        {
            var held = System.Diagnostics.Stopwatch.StartNew();
            bool met;
            while (!(met = until()) && held.Elapsed < MaxHold)
            {
                await Task.Delay(1, CancellationToken.None);
            }

            (LastHoldMet, LastHold) = (met, held.Elapsed);
            _until = null;
            Interlocked.Increment(ref _released);

            // The renewal the instance waited for answers now, however long ago it gave up on it.
            return await Inner.RenewAsync(group, member, CancellationToken.None);
        }

        return await Inner.RenewAsync(group, member, cancellationToken);
    }
}
