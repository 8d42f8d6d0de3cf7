using System.Buffers;
using System.Text;
using JobDedup.RabbitMq;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Receipts;
using PaymentWebhooks.Settings;
using PaymentWebhooks.Signatures;
using PaymentWebhooks.Telemetry;

namespace PaymentWebhooks.Endpoints;

/// <summary>
/// Takes a webhook in: reads the body (bounded), checks its signature, reads the event, and publishes the exact body
/// to RabbitMQ keyed by the event id. It answers 202 only once the broker has confirmed the message, so an accepted
/// webhook is never lost; on any failure the provider gets an error and sends the webhook again. The body is never
/// logged.
/// </summary>
internal sealed class WebhookReceiver(
    PaymentWebhooksOptions options,
    IJobPublisher publisher,
    ReceiptBook receipts,
    TimeProvider clock,
    ILogger<WebhookReceiver> logger)
{
    private readonly byte[] _secret = Encoding.UTF8.GetBytes(options.SigningSecret);

    /// <summary>Handles <c>POST /webhooks/payments</c>.</summary>
    /// <param name="context">The request.</param>
    /// <returns>202 when queued; 401, 400, 413 or 503 otherwise.</returns>
    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var body = await ReadBodyAsync(context.Request, options.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            Log.WebhookTooLarge(logger, options.MaxBodyBytes);
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"The body is larger than {options.MaxBodyBytes} bytes.");
        }

        var header = context.Request.Headers.TryGetValue(WebhookSignature.HeaderName, out var values) ? values.ToString() : null;
        var check = WebhookSignature.Verify(header, _secret, body, clock.GetUtcNow(), options.SignatureTolerance);
        if (check != SignatureCheck.Valid)
        {
            // Which check failed is for the operator's log; the caller learns only that the signature was not accepted.
            Log.WebhookRejected(logger, check, context.Connection.RemoteIpAddress?.ToString());
            return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: $"The {WebhookSignature.HeaderName} header is missing, malformed, too old, or does not match the body.");
        }

        PaymentEvent payment;
        try
        {
            payment = PaymentEvent.Read(body);
        }
        catch (FormatException ex)
        {
            Log.WebhookUnreadable(logger, ex.Message);
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body is not a usable payment event.", detail: ex.Message);
        }

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
            ReadOnlyMemory<byte> exactBody = body;
            await publisher.PublishAsync(payment.Id, exactBody, properties, cancellationToken);
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
            // The caller went away: it gets no 202, so it sends the webhook again; a copy that did arrive is deduplicated.
            receipts.Discard(receipt.Id);
            throw;
        }

        Log.WebhookAccepted(logger, payment.Id, receipt.Id);
        return Results.Accepted($"{WebhookEndpoints.ReceiptsPath}/{receipt.Id}", new AcceptedWebhook(payment.Id, receipt.Id));
    }

    /// <summary>Reads the whole body, or returns <see langword="null"/> as soon as it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 4096, limit));
        var chunk = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk.AsMemory(), cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
