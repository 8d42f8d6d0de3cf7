using JobDedup;
using PaymentWebhooks.Ledger;

namespace PaymentWebhooks.Receipts;

/// <summary>What happened to one accepted webhook delivery: each copy of an event has its own receipt.</summary>
/// <param name="Id">The receipt id, returned with the 202 answer.</param>
/// <param name="EventId">The provider's event id.</param>
/// <param name="AcceptedAt">When the webhook was accepted and queued.</param>
/// <param name="Status">Where the delivery stands.</param>
/// <param name="Role">
/// How this copy got its answer: <c>Leader</c> (its handler run wrote the entry), <c>Joined</c> (it arrived while that
/// run was in progress) or <c>Replayed</c> (it arrived later, within the dedupe window).
/// </param>
/// <param name="Charge">The ledger entry, once succeeded.</param>
/// <param name="Error">Why it failed, once failed.</param>
internal sealed record Receipt(
    string Id,
    string EventId,
    DateTimeOffset AcceptedAt,
    ReceiptStatus Status,
    JobRole? Role = null,
    Charge? Charge = null,
    string? Error = null);
