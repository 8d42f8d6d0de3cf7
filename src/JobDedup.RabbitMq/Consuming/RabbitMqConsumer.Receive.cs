using System.Text.Json;
using JobDedup.RabbitMq.Telemetry;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMq.Consuming;

/// <content>Taking a delivery in: checks, key, job, and hand-over to the deduplicator without waiting.</content>
internal sealed partial class RabbitMqConsumer<TJob, TResult>
{
    private Task OnReceivedAsync(AckWindow window, BasicDeliverEventArgs args)
    {
        var delivery = new Delivery(window, Volatile.Read(ref _generation), args.DeliveryTag, RabbitMqMessage.FromDelivery(args));
        window.Received(delivery);
        if (_state != ConsumerState.Running)
        {
            // Stopping: leave it unacknowledged (the window never acks past it). Closing the channel hands it back to
            // the broker, without the immediate redelivery a requeue would cause while the consumer is still registered.
            return Task.CompletedTask;
        }

        Track(delivery);
        try
        {
            Accept(delivery);
        }
        catch (Exception ex)
        {
            // Never let a delivery vanish: anything unexpected sends it back to the queue.
            Log.UnexpectedFailure(_logger, Name, delivery.Key, ex);
            _ = SettleAsync(delivery, NackAsync);
        }

        return Task.CompletedTask;
    }

    private void Accept(Delivery delivery)
    {
        var message = delivery.Message;
        if (message.Body.Length > _options.MaxMessageBytes)
        {
            _ = SettleAsync(delivery, d => DeadLetterAsync(d, DeadLetterReasons.Oversize, null,
                $"The body is {message.Body.Length} bytes; {nameof(_options.MaxMessageBytes)} is {_options.MaxMessageBytes}."));
            return;
        }

        string? key;
        try
        {
            key = _options.KeyRule.Extract(message);
        }
        catch (JsonException ex)
        {
            _ = SettleAsync(delivery, d => DeadLetterAsync(d, DeadLetterReasons.UnreadableBody, ex, $"The body is not the JSON {_options.KeyRule.Description} needs."));
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _ = SettleAsync(delivery, d => DeadLetterAsync(d, DeadLetterReasons.MissingKey, ex, $"The key rule ({_options.KeyRule.Description}) failed."));
            return;
        }

        if (key is null)
        {
            _ = SettleAsync(delivery, d => DeadLetterAsync(d, DeadLetterReasons.MissingKey, null, $"No dedupe key in {_options.KeyRule.Description}."));
            return;
        }

        delivery.Key = key;
        TJob job;
        try
        {
            job = _deserialize(message) ?? throw new FormatException("The body reads as null.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _ = SettleAsync(delivery, d => DeadLetterAsync(d, DeadLetterReasons.UnreadableBody, ex, "The body could not be read as a job."));
            return;
        }

        if (!TryHold(key, out var held))
        {
            Log.Parked(_logger, Name, key, held, _options.RetryQueueName(0));
            _ = SettleAsync(delivery, ParkAsync);
            return;
        }

        ValueTask<JobOutcome<TResult>> outcome;
        try
        {
            outcome = _deduplicator.EnqueueAsync(key, job, _abandon.Token);
        }
        catch
        {
            Release(key);
            throw;
        }

        _ = SettleWhenDoneAsync(delivery, key, outcome);
    }

    private bool TryHold(string key, out int held)
    {
        lock (_heldSync)
        {
            _heldPerKey.TryGetValue(key, out held);
            if (held >= _options.MaxHeldDuplicatesPerKey)
            {
                return false;
            }

            _heldPerKey[key] = held + 1;
            return true;
        }
    }

    private void Release(string key)
    {
        lock (_heldSync)
        {
            if (_heldPerKey.TryGetValue(key, out var held))
            {
                if (held <= 1)
                {
                    _heldPerKey.Remove(key);
                }
                else
                {
                    _heldPerKey[key] = held - 1;
                }
            }
        }
    }
}
