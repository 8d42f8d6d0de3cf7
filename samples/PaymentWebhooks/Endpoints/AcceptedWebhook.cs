namespace PaymentWebhooks.Endpoints;

/// <summary>The body of a 202 answer: the webhook is queued, and its receipt will say what came of it.</summary>
/// <param name="EventId">The provider's event id.</param>
/// <param name="Receipt">The receipt id; <c>GET /webhooks/payments/receipts/{receipt}</c> shows the outcome.</param>
internal sealed record AcceptedWebhook(string EventId, string Receipt);
