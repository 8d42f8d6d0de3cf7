using PaymentWebhooks.Ledger;
using PaymentWebhooks.Payments;

namespace PaymentWebhooks.Tests.Support;

/// <summary>
/// The sample's in-memory ledger, counting every write the handler attempts and, when given a gate, holding each
/// write there until the test opens it.
/// </summary>
internal sealed class GatedLedger(IChargeLedger inner, Gate? gate = null) : IChargeLedger
{
    private int _writes;

    /// <summary>Gets how many times the handler asked to write, whether or not the ledger already held the event.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public async ValueTask<Charge> RecordAsync(PaymentEvent payment, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writes);
        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return await inner.RecordAsync(payment, cancellationToken);
    }

    public ValueTask<IReadOnlyList<Charge>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);
}
