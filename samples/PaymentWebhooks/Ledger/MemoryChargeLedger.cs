using System.Security.Cryptography;
using PaymentWebhooks.Payments;

namespace PaymentWebhooks.Ledger;

/// <summary>The sample's ledger, in memory. It forgets everything when the process stops.</summary>
internal sealed class MemoryChargeLedger(TimeProvider timeProvider) : IChargeLedger
{
    private readonly Dictionary<string, Charge> _byEvent = new(StringComparer.Ordinal);
    private readonly List<Charge> _entries = [];
    private readonly Lock _sync = new();

    /// <inheritdoc/>
    public ValueTask<Charge> RecordAsync(PaymentEvent payment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payment);
        lock (_sync)
        {
            if (_byEvent.TryGetValue(payment.Id, out var existing))
            {
                return ValueTask.FromResult(existing);
            }

            // A random id, so that a second run for one event could never produce the same id by chance.
            var charge = new Charge(
                $"ch_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}",
                payment.Id,
                payment.Type,
                payment.Amount,
                payment.Currency,
                payment.Reference,
                timeProvider.GetUtcNow());
            _byEvent.Add(payment.Id, charge);
            _entries.Add(charge);
            return ValueTask.FromResult(charge);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<Charge>> ListAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            return ValueTask.FromResult<IReadOnlyList<Charge>>(_entries.ToArray());
        }
    }
}
