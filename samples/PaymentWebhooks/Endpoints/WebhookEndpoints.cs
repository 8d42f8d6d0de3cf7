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

    /// <summary>
    /// Maps the webhook endpoint (signature check first, then the idempotency filter keyed by the event id and scoped
    /// by the sender), the receipts and the ledger.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication MapPaymentWebhooks(this WebApplication app)
    {
        // Before the endpoint and its filter: a request that is not a genuine, usable webhook is answered here.
        app.UseWhen(
            context => HttpMethods.IsPost(context.Request.Method) && context.Request.Path == WebhookPath,
            branch => branch.UseMiddleware<WebhookIntake>());

        // Every copy of an event is one request to the filter: the first publishes and gets 202 with its receipt; a copy
        // sent while it publishes waits for that answer, and a later copy (within the window) gets it back, marked
        // Idempotent-Replayed. The same event id with a different body gets 422.
        app.MapPost(WebhookPath, (HttpContext context, WebhookReceiver receiver) => receiver.ReceiveAsync(context))
            .WithIdempotency(o =>
            {
                o.KeySelector = context => ReceivedWebhook.Of(context)?.Event.Id;
                o.Scope = context => ReceivedWebhook.Of(context)?.Sender ?? string.Empty;
                o.RequireKey = true;
            });

        // For operators and for trying the sample: what one accepted delivery got. Bound to 127.0.0.1 like the rest;
        // a real service would put these behind its own authentication.
        app.MapGet($"{ReceiptsPath}/{{id}}", (string id, ReceiptBook receipts) =>
            receipts.Find(id) is { } receipt ? Results.Ok(receipt) : Results.NotFound());
        app.MapGet(LedgerPath, async (IChargeLedger ledger, CancellationToken cancellationToken) =>
            Results.Ok(await ledger.ListAsync(cancellationToken)));
        return app;
    }
}
