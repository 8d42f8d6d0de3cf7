using PaymentWebhooks.Signatures;

namespace PaymentWebhooks.Telemetry;

/// <summary>Log events of the sample. Event ids are stable; event ids of payments may appear, bodies never do.</summary>
internal static partial class Log
{
    [LoggerMessage(5001, LogLevel.Information, "Webhook event {EventId} accepted and queued; receipt {ReceiptId}.")]
    public static partial void WebhookAccepted(ILogger logger, string eventId, string receiptId);

    [LoggerMessage(5002, LogLevel.Warning, "Webhook rejected with 401: signature {Check} (from {RemoteAddress}).")]
    public static partial void WebhookRejected(ILogger logger, SignatureCheck check, string? remoteAddress);

    [LoggerMessage(5003, LogLevel.Warning, "Webhook rejected with 400: {Problem}")]
    public static partial void WebhookUnreadable(ILogger logger, string problem);

    [LoggerMessage(5004, LogLevel.Warning, "Webhook rejected with 413: the body is larger than {MaxBodyBytes} bytes.")]
    public static partial void WebhookTooLarge(ILogger logger, int maxBodyBytes);

    [LoggerMessage(5005, LogLevel.Error, "Webhook event {EventId} could not be queued; answered 503 so the provider sends it again.")]
    public static partial void PublishFailed(ILogger logger, string eventId, Exception exception);

    [LoggerMessage(5006, LogLevel.Information, "Event {EventId} recorded in the ledger as {ChargeId} (attempt {Attempt}).")]
    public static partial void ChargeRecorded(ILogger logger, string eventId, string chargeId, int attempt);

    [LoggerMessage(5007, LogLevel.Information, "Listening for delivery outcomes on queue {Queue}.")]
    public static partial void ListeningForOutcomes(ILogger logger, string queue);

    [LoggerMessage(5008, LogLevel.Warning, "An outcome for receipt {ReceiptId} could not be read.")]
    public static partial void OutcomeUnreadable(ILogger logger, string? receiptId, Exception exception);

    [LoggerMessage(5009, LogLevel.Debug, "An outcome arrived for receipt {ReceiptId}, which is unknown (dropped, or from before a restart) or already complete.")]
    public static partial void OutcomeForUnknownReceipt(ILogger logger, string receiptId);

    [LoggerMessage(5010, LogLevel.Warning, "An outcome arrived without a receipt id; it is dropped.")]
    public static partial void OutcomeWithoutReceipt(ILogger logger);

    [LoggerMessage(5011, LogLevel.Warning, "An outcome could not be acknowledged; the broker will deliver it again.")]
    public static partial void OutcomeAckFailed(ILogger logger, Exception exception);

    [LoggerMessage(5012, LogLevel.Warning, "Closing the outcome listener's connection failed.")]
    public static partial void CloseFailed(ILogger logger, Exception exception);

    [LoggerMessage(5013, LogLevel.Information, "Payment webhooks listening on {Address}{Path}.")]
    public static partial void Listening(ILogger logger, string address, string path);
}
