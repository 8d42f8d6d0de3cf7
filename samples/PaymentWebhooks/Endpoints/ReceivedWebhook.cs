using PaymentWebhooks.Payments;

namespace PaymentWebhooks.Endpoints;

/// <summary>
/// A webhook that passed <see cref="WebhookIntake"/>: its signature matched, its body is a usable event. Kept in the
/// request's items for the idempotency filter (whose key is the event id, scoped by the sender) and the endpoint.
/// </summary>
/// <param name="Event">The event read from the body.</param>
/// <param name="Body">The exact body, as signed; it is what gets published.</param>
/// <param name="Sender">Who sent it: the provider whose secret signed it.</param>
internal sealed record ReceivedWebhook(PaymentEvent Event, byte[] Body, string Sender)
{
    private static readonly object ItemKey = new();

    /// <summary>Finds the webhook the intake accepted for this request.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The webhook, or <see langword="null"/> when the request did not come through the intake.</returns>
    public static ReceivedWebhook? Of(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var value) ? value as ReceivedWebhook : null;

    /// <summary>Keeps this webhook in the request's items.</summary>
    /// <param name="context">The request.</param>
    public void Attach(HttpContext context) => context.Items[ItemKey] = this;
}
