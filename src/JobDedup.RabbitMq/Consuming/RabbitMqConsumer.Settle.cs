using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using JobDedup.RabbitMq.Telemetry;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming;

/// <content>
/// Settling a delivery, exactly once: ack after success; after a failure, through a retry queue or into the
/// dead-letter queue (republished with publisher confirms before the original is acked, so nothing is lost between
/// the two); back to the work queue when the consumer stops.
/// </content>
internal sealed partial class RabbitMqConsumer<TJob, TResult>
{
    private const int MaxHeaderText = 1000;

    private static readonly Counter<long> Settled = JobDedup.Telemetry.Metrics.Meter.CreateCounter<long>(
        "jobdedup.rabbitmq.deliveries.settled", "{delivery}", "Deliveries settled, by how (ack, retry, dead-letter, park, requeue).");

    private async Task SettleWhenDoneAsync(Delivery delivery, string key, ValueTask<JobOutcome<TResult>> pending)
    {
        JobOutcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.SettleFailed(_logger, Name, key, ex);
            await RequeueAsync(delivery).ConfigureAwait(false);
            return;
        }
        finally
        {
            Release(key);
        }

        switch (outcome.Status)
        {
            case JobStatus.Succeeded:
                await CompleteAsync(delivery, outcome).ConfigureAwait(false);
                break;
            case JobStatus.Failed:
                await FailAsync(delivery, outcome.Exception!).ConfigureAwait(false);
                break;
            case JobStatus.Rejected:
                // The key's waiter limit or the deduplicator's queue is full: come back later.
                await ParkAsync(delivery).ConfigureAwait(false);
                break;
            default:
                // Canceled: the consumer or the deduplicator is stopping.
                await RequeueAsync(delivery).ConfigureAwait(false);
                break;
        }
    }

    private async Task CompleteAsync(Delivery delivery, JobOutcome<TResult> outcome)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        if (delivery.Message.ReplyTo is { Length: > 0 })
        {
            await ReplyAsync(delivery, outcome.Role, _serializeReply(outcome.Value!), null).ConfigureAwait(false);
        }

        await AckAsync(delivery, "ack").ConfigureAwait(false);
    }

    private Task FailAsync(Delivery delivery, Exception exception)
    {
        var attempt = delivery.Message.Attempt;
        if (_options.IsPermanentFailure?.Invoke(exception) == true)
        {
            return DeadLetterAsync(delivery, DeadLetterReasons.PermanentFailure, exception, "The handler's failure is permanent; it is not retried.");
        }

        return attempt >= _options.MaxDeliveryAttempts
            ? DeadLetterAsync(delivery, DeadLetterReasons.HandlerFailed, exception, $"The handler failed on all {attempt} delivery attempts.")
            : RetryAsync(delivery, attempt + 1);
    }

    private async Task RetryAsync(Delivery delivery, int nextAttempt)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        var level = _options.RetryLevel(nextAttempt);
        var queue = _options.RetryQueueName(level);
        var delay = _options.RetryDelays[level];
        var headers = CopyHeaders(delivery.Message);
        headers[JobDedupHeaders.Attempt] = (long)nextAttempt;
        Log.RetryScheduled(_logger, Name, delivery.Key ?? string.Empty, nextAttempt - 1, queue, delay);
        await RepublishAsync(delivery, string.Empty, queue, headers, delay, "retry").ConfigureAwait(false);
    }

    private async Task ParkAsync(Delivery delivery)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        var headers = CopyHeaders(delivery.Message);
        headers[JobDedupHeaders.Parked] = (delivery.Message.GetHeaderInt64(JobDedupHeaders.Parked) ?? 0) + 1;
        await RepublishAsync(delivery, string.Empty, _options.RetryQueueName(0), headers, _options.RetryDelays[0], "park").ConfigureAwait(false);
    }

    private async Task DeadLetterAsync(Delivery delivery, string reason, Exception? exception, string detail)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        var message = delivery.Message;
        var headers = CopyHeaders(message);
        headers[JobDedupHeaders.Reason] = reason;
        headers[JobDedupHeaders.Attempt] = (long)message.Attempt;
        headers[JobDedupHeaders.SourceQueue] = _options.Queue;
        headers[JobDedupHeaders.ExceptionType] = exception?.GetType().FullName ?? string.Empty;
        headers[JobDedupHeaders.ExceptionMessage] = Truncate(exception?.Message ?? detail);
        Log.DeadLettered(_logger, Name, message.MessageId, delivery.Key, _options.DeadLetterQueueName, reason, detail);

        if (message.ReplyTo is { Length: > 0 })
        {
            var error = JsonSerializer.SerializeToUtf8Bytes(new ReplyError(reason, exception?.GetType().FullName, exception?.Message ?? detail));
            await ReplyAsync(delivery, JobRole.None, error, exception ?? new InvalidOperationException(detail)).ConfigureAwait(false);
        }

        await RepublishAsync(delivery, _options.DeadLetterExchangeName, _options.Queue, headers, expiration: null, "dead-letter").ConfigureAwait(false);
    }

    private async Task RequeueAsync(Delivery delivery)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        try
        {
            await _consumeChannel!.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            Settled.Add(1, Tags("requeue"));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unacknowledged on a lost channel: the broker requeues it by itself.
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
        }
        finally
        {
            Untrack(delivery);
        }
    }

    /// <summary>Publishes a copy (confirmed by the broker), then acks the original; if the copy fails, requeues instead.</summary>
    private async Task RepublishAsync(Delivery delivery, string exchange, string routingKey, Dictionary<string, object?> headers, TimeSpan? expiration, string settlement)
    {
        var message = delivery.Message;
        var properties = new BasicProperties
        {
            MessageId = message.MessageId,
            CorrelationId = message.CorrelationId,
            ReplyTo = message.ReplyTo,
            ContentType = message.ContentType,
            Type = message.Type,
            Persistent = true,
            Headers = headers,
            Expiration = expiration is { } ttl ? ((long)ttl.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : null,
        };

        try
        {
            await _publishChannel!.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, message.Body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
            try
            {
                await _consumeChannel!.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
                Settled.Add(1, Tags("requeue"));
            }
            catch (Exception nackFailure) when (nackFailure is not OutOfMemoryException)
            {
                Log.SettleFailed(_logger, Name, delivery.Key, nackFailure);
            }

            Untrack(delivery);
            return;
        }

        await AckAsync(delivery, settlement).ConfigureAwait(false);
    }

    private async Task AckAsync(Delivery delivery, string settlement)
    {
        try
        {
            await _consumeChannel!.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
            Settled.Add(1, Tags(settlement));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
        }
        finally
        {
            Untrack(delivery);
        }
    }

    private async Task ReplyAsync(Delivery delivery, JobRole role, byte[] body, Exception? error)
    {
        var message = delivery.Message;
        var headers = new Dictionary<string, object?>
        {
            [JobDedupHeaders.Status] = error is null ? nameof(JobStatus.Succeeded) : nameof(JobStatus.Failed),
            [JobDedupHeaders.Role] = role.ToString(),
        };
        if (error is not null)
        {
            headers[JobDedupHeaders.ExceptionType] = error.GetType().FullName;
            headers[JobDedupHeaders.ExceptionMessage] = Truncate(error.Message);
        }

        var properties = new BasicProperties { CorrelationId = message.CorrelationId, Headers = headers };
        try
        {
            await _publishChannel!.BasicPublishAsync(string.Empty, message.ReplyTo!, mandatory: false, properties, body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ReplyFailed(_logger, Name, delivery.Key ?? string.Empty, message.ReplyTo!, ex);
        }
    }

    private Dictionary<string, object?> CopyHeaders(RabbitMqMessage message)
    {
        var headers = new Dictionary<string, object?>(message.Headers, StringComparer.Ordinal);
        if (!headers.ContainsKey(JobDedupHeaders.FirstSeen))
        {
            headers[JobDedupHeaders.FirstSeen] = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        }

        return headers;
    }

    private KeyValuePair<string, object?>[] Tags(string settlement) =>
        [new(JobDedupTelemetry.DeduplicatorTag, Name), new("jobdedup.settlement", settlement)];

    private static string Truncate(string text) => text.Length <= MaxHeaderText ? text : text[..MaxHeaderText];

    private sealed record ReplyError(string Reason, string? ExceptionType, string Message);
}
