using System.Buffers;
using System.Text;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Settings;
using PaymentWebhooks.Signatures;
using PaymentWebhooks.Telemetry;

namespace PaymentWebhooks.Endpoints;

/// <summary>
/// Takes a webhook in, before the idempotency filter sees it: reads the body (bounded), checks its signature and reads
/// the event. Only a webhook that passes all three reaches the filter, so a forged or unusable request never claims an
/// event id, and is never answered with a stored response. The body is never logged.
/// </summary>
internal sealed class WebhookIntake(PaymentWebhooksOptions options, TimeProvider clock, ILogger<WebhookIntake> logger) : IMiddleware
{
    private readonly byte[] _secret = Encoding.UTF8.GetBytes(options.SigningSecret);

    /// <summary>Answers 413, 401 or 400, or passes the accepted webhook on.</summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The idempotency filter and the endpoint.</param>
    /// <returns>A task that completes when the request is answered.</returns>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var body = await ReadBodyAsync(context.Request, options.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            Log.WebhookTooLarge(logger, options.MaxBodyBytes);
            await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: $"The body is larger than {options.MaxBodyBytes} bytes.").ExecuteAsync(context);
            return;
        }

        var header = context.Request.Headers.TryGetValue(WebhookSignature.HeaderName, out var values) ? values.ToString() : null;
        var check = WebhookSignature.Verify(header, _secret, body, clock.GetUtcNow(), options.SignatureTolerance);
        if (check != SignatureCheck.Valid)
        {
            // Which check failed is for the operator's log; the caller learns only that the signature was not accepted.
            Log.WebhookRejected(logger, check, context.Connection.RemoteIpAddress?.ToString());
            await Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: $"The {WebhookSignature.HeaderName} header is missing, malformed, too old, or does not match the body.").ExecuteAsync(context);
            return;
        }

        PaymentEvent payment;
        try
        {
            payment = PaymentEvent.Read(body);
        }
        catch (FormatException ex)
        {
            Log.WebhookUnreadable(logger, ex.Message);
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body is not a usable payment event.", detail: ex.Message).ExecuteAsync(context);
            return;
        }

        new ReceivedWebhook(payment, body, options.Sender).Attach(context);

        // The body was read to the end; the filter reads it again to compare a repeat with the first request.
        context.Request.Body = new MemoryStream(body, writable: false);
        await next(context);
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
