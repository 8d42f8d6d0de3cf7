using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using JobDedup.RabbitMq.Telemetry;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming;

/// <content>
/// Settling a delivery, exactly once: ack after success (then the reply); after a failure, through a retry queue or
/// into the dead-letter queue, republished with publisher confirms before the original is acked, so nothing is lost
/// between the two. A republish that fails is tried again after a growing pause while the delivery stays held,
/// never requeued into a hot loop. A delivery the broker already took back (the connection dropped) is left to come
/// back and is not republished.
/// </content>
internal sealed partial class RabbitMqConsumer<TJob, TResult>
{
    private const int MaxHeaderText = 1000;

    private static readonly Counter<long> Settled = JobDedup.Telemetry.Instruments.Meter.CreateCounter<long>(
        "jobdedup.rabbitmq.deliveries.settled",
        "{delivery}",
        "Deliveries settled, by how: ack, retry, dead-letter, park, requeue, stale (taken back by the broker), deferred (a settlement to try again).");

    private async Task SettleWhenDoneAsync(Delivery delivery, string key, ValueTask<JobOutcome<TResult>> pending)
    {
        JobOutcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.UnexpectedFailure(_logger, Name, key, ex);
            await SettleAsync(delivery, NackAsync).ConfigureAwait(false);
            return;
        }
        finally
        {
            Release(key);
        }

        Func<Delivery, Task> settle = outcome.Status switch
        {
            JobStatus.Succeeded => d => CompleteAsync(d, outcome),
            JobStatus.Failed => d => FailAsync(d, outcome.Exception!),

            // The key's waiter limit or the deduplicator's queue is full: come back later.
            JobStatus.Rejected => ParkAsync,

            // Canceled: the consumer or the deduplicator is stopping.
            _ => NackAsync,
        };
        await SettleAsync(delivery, settle).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles a delivery once: the first caller claims it, runs <paramref name="settle"/> (reply included), and only
    /// then lets it go from the pending set, so shutdown waits for it. If the settlement fails unexpectedly, the
    /// delivery goes back to the queue rather than vanish.
    /// </summary>
    private async Task SettleAsync(Delivery delivery, Func<Delivery, Task> settle)
    {
        if (!delivery.TryClaim())
        {
            return;
        }

        try
        {
            await settle(delivery).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            try
            {
                Log.UnexpectedFailure(_logger, Name, delivery.Key, ex);
            }
            catch (Exception)
            {
                // The logger failed too; the delivery still must not be lost.
            }

            await NackAsync(delivery).ConfigureAwait(false);
        }
        finally
        {
            Untrack(delivery);
        }
    }

    private async Task CompleteAsync(Delivery delivery, JobOutcome<TResult> outcome)
    {
        byte[]? reply = null;
        if (delivery.Message.ReplyTo is { Length: > 0 })
        {
            try
            {
                reply = _serializeReply(outcome.Value!);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The job is done either way: ack it, and say why no reply goes out.
                Log.ReplyFailed(_logger, Name, delivery.Key ?? string.Empty, delivery.Message.ReplyTo, ex);
            }
        }

        // Ack first: a reply that fails (or makes the broker drop the publishing connection) must not cost the ack.
        if (await AckAsync(delivery, "ack").ConfigureAwait(false) && reply is not null)
        {
            await ReplyAsync(delivery, outcome.Role, reply, null).ConfigureAwait(false);
        }
    }

    private Task FailAsync(Delivery delivery, Exception exception)
    {
        bool permanent;
        try
        {
            permanent = _options.IsPermanentFailure?.Invoke(exception) == true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.UnexpectedFailure(_logger, Name, delivery.Key, ex);
            permanent = false;
        }

        var attempt = delivery.Message.Attempt;
        if (permanent)
        {
            return DeadLetterAsync(delivery, DeadLetterReasons.PermanentFailure, exception, "The handler's failure is permanent; it is not retried.");
        }

        return attempt >= _options.MaxDeliveryAttempts
            ? DeadLetterAsync(delivery, DeadLetterReasons.HandlerFailed, exception, $"The handler failed on all {attempt} delivery attempts.")
            : RetryAsync(delivery, attempt + 1);
    }

    private async Task RetryAsync(Delivery delivery, int nextAttempt)
    {
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
        var headers = CopyHeaders(delivery.Message);
        headers[JobDedupHeaders.Parked] = (delivery.Message.GetHeaderInt64(JobDedupHeaders.Parked) ?? 0) + 1;
        await RepublishAsync(delivery, string.Empty, _options.RetryQueueName(0), headers, _options.RetryDelays[0], "park").ConfigureAwait(false);
    }

    private async Task DeadLetterAsync(Delivery delivery, string reason, Exception? exception, string detail)
    {
        var message = delivery.Message;
        var headers = CopyHeaders(message);
        headers[JobDedupHeaders.Reason] = reason;
        headers[JobDedupHeaders.Attempt] = (long)message.Attempt;
        headers[JobDedupHeaders.SourceQueue] = _options.Queue;
        headers[JobDedupHeaders.ExceptionType] = exception?.GetType().FullName ?? string.Empty;
        headers[JobDedupHeaders.ExceptionMessage] = Truncate(exception?.Message ?? detail);
        if (!await RepublishAsync(delivery, _options.DeadLetterExchangeName, _options.Queue, headers, expiration: null, "dead-letter").ConfigureAwait(false))
        {
            return;
        }

        Log.DeadLettered(_logger, Name, message.MessageId, delivery.Key, _options.DeadLetterQueueName, reason, detail);
        if (message.ReplyTo is { Length: > 0 })
        {
            var error = JsonSerializer.SerializeToUtf8Bytes(new ReplyError(reason, exception?.GetType().FullName, exception?.Message ?? detail));
            await ReplyAsync(delivery, JobRole.None, error, exception ?? new InvalidOperationException(detail)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes a copy (confirmed by the broker), then acks the original. If the copy fails, the delivery stays held
    /// and the publish is tried again after a growing pause; when the consumer stops, it is requeued instead.
    /// </summary>
    /// <returns><see langword="true"/> when the copy was published and the original acked.</returns>
    private async Task<bool> RepublishAsync(Delivery delivery, string exchange, string routingKey, Dictionary<string, object?> headers, TimeSpan? expiration, string settlement)
    {
        var properties = CopyProperties(delivery.Message, headers, expiration);
        var pause = FirstRetryDelay;
        while (true)
        {
            if (IsStale(delivery))
            {
                if (delivery.TryFinish())
                {
                    Forget(delivery);
                }

                return false;
            }

            try
            {
                await _publisher!.PublishAsync(exchange, routingKey, mandatory: true, properties, delivery.Message.Body, _abandon.Token).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (_state != ConsumerState.Running)
                {
                    await NackAsync(delivery).ConfigureAwait(false);
                    return false;
                }

                Settled.Add(1, Tags("deferred"));
                Log.SettleDeferred(_logger, Name, delivery.Key, settlement, pause, ex);
                try
                {
                    await Task.Delay(pause, _timeProvider, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await NackAsync(delivery).ConfigureAwait(false);
                    return false;
                }

                pause = Min(pause * 2, LongestRetryDelay);
            }
        }

        return await AckAsync(delivery, settlement).ConfigureAwait(false);
    }

    /// <returns><see langword="true"/> when the ack was sent on the delivery's own channel.</returns>
    private async Task<bool> AckAsync(Delivery delivery, string settlement)
    {
        if (!delivery.TryFinish())
        {
            return false;
        }

        if (IsStale(delivery))
        {
            Forget(delivery);
            return false;
        }

        try
        {
            Settled.Add(1, Tags(settlement));
            await delivery.Window.AckAsync(delivery).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
            return false;
        }
    }

    private async Task NackAsync(Delivery delivery)
    {
        if (!delivery.TryFinish())
        {
            return;
        }

        if (IsStale(delivery))
        {
            Forget(delivery);
            return;
        }

        try
        {
            await delivery.Window.NackAsync(delivery).ConfigureAwait(false);
            Settled.Add(1, Tags("requeue"));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unacknowledged on a lost channel: the broker requeues it by itself.
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
        }
    }

    /// <summary>A delivery the broker already took back: nothing to ack, nothing to republish; it comes back by itself.</summary>
    private void Forget(Delivery delivery) => Settled.Add(1, Tags("stale"));

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
            await _publisher!.PublishAsync(string.Empty, message.ReplyTo!, mandatory: false, properties, body, _abandon.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ReplyFailed(_logger, Name, delivery.Key ?? string.Empty, message.ReplyTo!, ex);
        }
    }

    /// <summary>Every property of the original, with new headers and expiry; the user id is left out (the broker checks it).</summary>
    private static BasicProperties CopyProperties(RabbitMqMessage message, Dictionary<string, object?> headers, TimeSpan? expiration)
    {
        var properties = message.Properties is { } original ? new BasicProperties(original) : new BasicProperties();
        properties.Headers = headers;
        properties.Persistent = true;
        properties.UserId = null;
        properties.Expiration = expiration is { } ttl ? ((long)ttl.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : null;
        return properties;
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
