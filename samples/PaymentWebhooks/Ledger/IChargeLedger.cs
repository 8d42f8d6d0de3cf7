using PaymentWebhooks.Payments;

namespace PaymentWebhooks.Ledger;

/// <summary>Where charges are written: a database table in a real service, memory in this sample.</summary>
internal interface IChargeLedger
{
    /// <summary>
    /// Writes the event's charge. The ledger keeps one entry per event id (a unique index in a real table): for an event
    /// it already holds, it returns that entry and writes nothing. JobDedup keeps duplicates from getting here; this is
    /// the last line of defence, for a copy that arrives after the dedupe window.
    /// </summary>
    /// <param name="payment">The event.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The event's entry.</returns>
    ValueTask<Charge> RecordAsync(PaymentEvent payment, CancellationToken cancellationToken);

    /// <summary>Lists every entry, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entries.</returns>
    ValueTask<IReadOnlyList<Charge>> ListAsync(CancellationToken cancellationToken);
}
