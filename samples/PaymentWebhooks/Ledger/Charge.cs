namespace PaymentWebhooks.Ledger;

/// <summary>One ledger entry: what the handler records for a payment event, and the answer every copy of the event gets.</summary>
/// <param name="Id">The charge id the ledger gave the entry.</param>
/// <param name="EventId">The provider's event id.</param>
/// <param name="Type">The event type.</param>
/// <param name="Amount">The amount in minor units.</param>
/// <param name="Currency">The currency code.</param>
/// <param name="Reference">The merchant's reference, if any.</param>
/// <param name="RecordedAt">When the entry was written.</param>
internal sealed record Charge(string Id, string EventId, string Type, long Amount, string Currency, string? Reference, DateTimeOffset RecordedAt);
