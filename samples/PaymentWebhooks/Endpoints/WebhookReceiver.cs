using JobDedup.RabbitMq;
using PaymentWebhooks.Receipts;
using PaymentWebhooks.Settings;
using PaymentWebhooks.Telemetry;

namespace PaymentWebhooks.Endpoints;

/// <summary>
/// The endpoint behind the idempotency filter: it runs once per event id and sender, for the first copy; every other
/// copy gets its answer. It publishes the exact body to RabbitMQ keyed by the event id and answers 202 only once the
/// broker has confirmed the message, so an accepted webhook is never lost; when publishing fails the provider gets 503
/// (never kept, so its retry runs this again).
/// </summary>
internal sealed class WebhookReceiver(
    PaymentWebhooksOptions options,
    IJobPublisher publisher,
    ReceiptBook receipts,
    TimeProvider clock,
    ILogger<WebhookReceiver> logger)
{
    /// <summary>Handles <c>POST /webhooks/payments</c> once the intake accepted it.</summary>
    /// <param name="context">The request.</param>
    /// <returns>202 when queued; 503 when the broker did not take it.</returns>
    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        var webhook = ReceivedWebhook.Of(context)
            ?? throw new InvalidOperationException($"The webhook endpoint runs only behind {nameof(WebhookIntake)}.");
        var payment = webhook.Event;

        // Opened before publishing: the outcome can come back before the publish confirm does.
        var receipt = receipts.Open(payment.Id, clock.GetUtcNow());
        try
        {
            var properties = new JobPublishProperties
            {
                ContentType = "application/json",
                CorrelationId = receipt.Id,
                ReplyTo = options.OutcomeQueueName,
            };
            // Typed as ReadOnlyMemory<byte> on purpose: a byte[] or Memory<byte> binds to the generic PublishAsync<TJob>
            // instead, which would send the body as a JSON (base64) string.
            ReadOnlyMemory<byte> exactBody = webhook.Body;
            await publisher.PublishAsync(payment.Id, exactBody, properties, context.RequestAborted);
        }
        catch (Exception ex) when (ex is JobPublishException or ObjectDisposedException)
        {
            receipts.Discard(receipt.Id);
            Log.PublishFailed(logger, payment.Id, ex);
            context.Response.Headers.RetryAfter = "30";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The webhook could not be queued; send it again later.");
        }
        catch (OperationCanceledException)
        {
            // Shutting down: no 202, so the provider sends the webhook again; a copy that did arrive is deduplicated.
            receipts.Discard(receipt.Id);
            throw;
        }

        Log.WebhookAccepted(logger, payment.Id, receipt.Id);
        return Results.Accepted($"{WebhookEndpoints.ReceiptsPath}/{receipt.Id}", new AcceptedWebhook(payment.Id, receipt.Id));
    }
}
