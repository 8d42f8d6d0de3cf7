using PaymentWebhooks.Ledger;
using PaymentWebhooks.Receipts;

namespace PaymentWebhooks.Endpoints;

/// <summary>The sample's HTTP endpoints.</summary>
internal static class WebhookEndpoints
{
    /// <summary>Where the payment provider posts its webhooks.</summary>
    public const string WebhookPath = "/webhooks/payments";

    /// <summary>Where receipts are read, by id.</summary>
    public const string ReceiptsPath = "/webhooks/payments/receipts";

    /// <summary>Where the ledger is listed.</summary>
    public const string LedgerPath = "/ledger";

    /// <summary>Maps the webhook endpoint, the receipts and the ledger.</summary>
    /// <param name="endpoints">The application.</param>
    /// <returns>The application.</returns>
    public static IEndpointRouteBuilder MapPaymentWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(WebhookPath, (HttpContext context, WebhookReceiver receiver) => receiver.ReceiveAsync(context));

        // For operators and for trying the sample: what one accepted delivery got. Bound to 127.0.0.1 like the rest;
        // a real service would put these behind its own authentication.
        endpoints.MapGet($"{ReceiptsPath}/{{id}}", (string id, ReceiptBook receipts) =>
            receipts.Find(id) is { } receipt ? Results.Ok(receipt) : Results.NotFound());
        endpoints.MapGet(LedgerPath, async (IChargeLedger ledger, CancellationToken cancellationToken) =>
            Results.Ok(await ledger.ListAsync(cancellationToken)));
        return endpoints;
    }
}
