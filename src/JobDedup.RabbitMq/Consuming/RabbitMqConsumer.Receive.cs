using JobDedup.RabbitMq.Telemetry;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMq.Consuming;

/// <content>Taking a delivery in: checks, key, job, and hand-over to the deduplicator without waiting.</content>
internal sealed partial class RabbitMqConsumer<TJob, TResult>
{
    private Task OnReceivedAsync(object sender, BasicDeliverEventArgs args)
    {
        var delivery = new Delivery(args.DeliveryTag, RabbitMqMessage.FromDelivery(args));
        Track(delivery);
        try
        {
            Accept(delivery);
        }
        catch (Exception ex)
        {
            // Never let a delivery vanish: anything unexpected sends it back to the queue.
            Log.SettleFailed(_logger, Name, delivery.Key, ex);
            _ = RequeueAsync(delivery);
        }

        return Task.CompletedTask;
    }

    private void Accept(Delivery delivery)
    {
        var message = delivery.Message;
        if (_state != ConsumerState.Running)
        {
            _ = RequeueAsync(delivery);
            return;
        }

        if (message.Body.Length > _options.MaxMessageBytes)
        {
            _ = DeadLetterAsync(delivery, DeadLetterReasons.Oversize, null,
                $"The body is {message.Body.Length} bytes; {nameof(_options.MaxMessageBytes)} is {_options.MaxMessageBytes}.");
            return;
        }

        string? key;
        TJob job;
        try
        {
            key = _options.KeyRule.Extract(message);
            if (key is null)
            {
                _ = DeadLetterAsync(delivery, DeadLetterReasons.MissingKey, null, $"No dedupe key in {_options.KeyRule.Description}.");
                return;
            }

            delivery.Key = key;
            job = _deserialize(message) ?? throw new FormatException("The body reads as null.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _ = DeadLetterAsync(delivery, DeadLetterReasons.UnreadableBody, ex, "The body could not be read as a job.");
            return;
        }

        if (!TryHold(key, out var held))
        {
            Log.Parked(_logger, Name, key, held, _options.RetryQueueName(0));
            _ = ParkAsync(delivery);
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
