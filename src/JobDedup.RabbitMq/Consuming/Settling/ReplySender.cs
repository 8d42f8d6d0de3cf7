using System.Text.Json;
using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Publishing;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>
/// Sends the outcome to a message's reply-to address, after its ack is written (a reply never overtakes the ack, so
/// a channel lost in between cannot cause a second reply for one settled delivery). A reply that fails is logged and
/// not retried: the job is done either way.
/// </summary>
internal sealed class ReplySender(string consumer, ConfirmedChannel publisher, ILogger logger, CancellationToken abandon)
{
    /// <summary>Sends a success reply with the serialized result.</summary>
    public Task SendAsync(Delivery delivery, JobRole role, byte[] body) => PublishAsync(delivery, role, body, null, JobStatus.Succeeded);

    /// <summary>Sends an error reply saying why the message was dead-lettered.</summary>
    public Task SendErrorAsync(Delivery delivery, in Settlement settlement)
    {
        var exception = settlement.Exception;
        var body = JsonSerializer.SerializeToUtf8Bytes(new ReplyError(settlement.Reason, exception?.GetType().FullName, exception?.Message ?? settlement.Detail));
        // A message refused for its payload did not fail: it was another job under a key already used.
        var status = settlement.Reason == DeadLetterReasons.PayloadMismatch ? JobStatus.Conflict : JobStatus.Failed;
        return PublishAsync(delivery, JobRole.None, body, exception ?? new InvalidOperationException(settlement.Detail), status);
    }

    private async Task PublishAsync(Delivery delivery, JobRole role, byte[] body, Exception? error, JobStatus status)
    {
        var message = delivery.Message;
        var headers = new Dictionary<string, object?>
        {
            [JobDedupHeaders.Status] = status.ToString(),
            [JobDedupHeaders.Role] = role.ToString(),
        };
        if (error is not null)
        {
            headers[JobDedupHeaders.ExceptionType] = error.GetType().FullName;
            headers[JobDedupHeaders.ExceptionMessage] = Republisher.Truncate(error.Message);
        }

        var properties = new BasicProperties { CorrelationId = message.CorrelationId, Headers = headers };
        try
        {
            await publisher.PublishAsync(string.Empty, message.ReplyTo!, mandatory: false, properties, body, abandon).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ReplyFailed(logger, consumer, delivery.Key ?? string.Empty, message.ReplyTo!, ex);
        }
    }

    private sealed record ReplyError(string Reason, string? ExceptionType, string Message);
}
