using System.Text.Json;
using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Consuming.Settling;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Consuming.Intake;

/// <summary>
/// Takes a delivery in: copies it, lists it in its channel's ack window, checks it (size, key, body), holds a place
/// for its key, and hands it to the deduplicator without waiting, so that the duplicates within the prefetch meet in
/// one flight. Once the flight's outcome is known, the settlement policy decides and the settler carries it out.
/// </summary>
/// <remarks>
/// A key may hold at most <c>MaxHeldDuplicatesPerKey</c> deliveries at once; more are parked, so one slow key cannot
/// take every prefetch slot. The holds are released when the flight's outcome arrives.
/// </remarks>
internal sealed class DeliveryIntake<TJob, TResult>
{
    private readonly string _consumer;
    private readonly RabbitMqConsumerOptions<TJob, TResult> _options;
    private readonly IJobDeduplicator<TJob, TResult> _deduplicator;
    private readonly Settler _settler;
    private readonly ILogger _logger;
    private readonly Func<bool> _isRunning;
    private readonly Func<bool> _storeDown;
    private readonly CancellationToken _abandon;
    private readonly Func<RabbitMqMessage, TJob> _deserialize;
    private readonly Func<TResult, byte[]> _serializeReply;
    private readonly SettlementRules _rules;

    /// <summary>Guards <see cref="_heldPerKey"/>.</summary>
    private readonly Lock _holdsLock = new();
    private readonly Dictionary<string, int> _heldPerKey = new(StringComparer.Ordinal);

    public DeliveryIntake(
        string consumer,
        RabbitMqConsumerOptions<TJob, TResult> options,
        IJobDeduplicator<TJob, TResult> deduplicator,
        Settler settler,
        ILogger logger,
        Func<bool> isRunning,
        Func<bool> storeDown,
        CancellationToken abandon)
    {
        _consumer = consumer;
        _options = options;
        _deduplicator = deduplicator;
        _settler = settler;
        _logger = logger;
        _isRunning = isRunning;
        _storeDown = storeDown;
        _abandon = abandon;
        _deserialize = Codec<TJob, TResult>.Deserializer(options);
        _serializeReply = Codec<TJob, TResult>.ReplySerializer(options);
        _rules = SettlementRules.From(options);
    }

    /// <summary>
    /// Gets or sets a hook run after a delivery is copied and before it is listed: a test seam that places a
    /// connection loss exactly there.
    /// </summary>
    internal Func<RabbitMqMessage, Task>? DeliveryCopied { get; set; }

    /// <summary>Takes one delivery in, inside the client's callback (its body is valid only until this returns).</summary>
    public Task OnDeliveryAsync(AckWindow window, in DeliveryFrame frame)
    {
        var delivery = new Delivery(frame.DeliveryTag, RabbitMqMessage.FromDelivery(frame));
        if (DeliveryCopied is { } hook)
        {
            return ListAfterAsync(hook, window, delivery);
        }

        List(window, delivery);
        return Task.CompletedTask;
    }

    private async Task ListAfterAsync(Func<RabbitMqMessage, Task> hook, AckWindow window, Delivery delivery)
    {
        await hook(delivery.Message).ConfigureAwait(false);
        List(window, delivery);
    }

    private void List(AckWindow window, Delivery delivery)
    {
        if (!window.TryList(delivery))
        {
            // Its connection is gone: the broker has it back already and delivers it again.
            _settler.CountStale();
            return;
        }

        if (!_isRunning())
        {
            // Stopping: claimed and left unacknowledged (the window never acks past it). Closing the channel hands it
            // back to the broker, without the immediate redelivery a requeue would cause while the consumer is registered.
            delivery.TryStartSettling();
            return;
        }

        _settler.Track(delivery);
        if (_storeDown())
        {
            // Arrived before intake paused: straight back to the queue, no attempt counted, nothing run.
            _ = _settler.SettleAsync(delivery, Settlement.Requeue);
            return;
        }

        try
        {
            Accept(delivery);
        }
        catch (Exception ex)
        {
            // Never let a delivery vanish: anything unexpected sends it back to the queue.
            Log.UnexpectedFailure(_logger, _consumer, delivery.Key, ex);
            _ = _settler.SettleAsync(delivery, Settlement.Requeue);
        }
    }

    private void Accept(Delivery delivery)
    {
        var message = delivery.Message;
        if (message.Body.Length > _options.MaxMessageBytes)
        {
            DeadLetter(delivery, DeadLetterReasons.Oversize, $"The body is {message.Body.Length} bytes; {nameof(_options.MaxMessageBytes)} is {_options.MaxMessageBytes}.");
            return;
        }

        string? key;
        try
        {
            key = _options.KeyRule.Extract(message);
        }
        catch (JsonException ex)
        {
            DeadLetter(delivery, DeadLetterReasons.UnreadableBody, $"The body is not the JSON {_options.KeyRule.Description} needs.", ex);
            return;
        }
        catch (InvalidKeyException ex)
        {
            DeadLetter(delivery, DeadLetterReasons.InvalidKey, ex.Message, ex);
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            DeadLetter(delivery, DeadLetterReasons.MissingKey, $"The key rule ({_options.KeyRule.Description}) failed.", ex);
            return;
        }

        if (key is null)
        {
            DeadLetter(delivery, DeadLetterReasons.MissingKey, $"No dedupe key in {_options.KeyRule.Description}.");
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
            DeadLetter(delivery, DeadLetterReasons.UnreadableBody, "The body could not be read as a job.", ex);
            return;
        }

        if (!TryHold(key, out var held))
        {
            Log.Parked(_logger, _consumer, key, held, _options.RetryQueueName(0));
            _ = _settler.SettleAsync(delivery, Settlement.Park);
            return;
        }

        ValueTask<JobOutcome<TResult>> outcome;
        try
        {
            outcome = _deduplicator.EnqueueAsync(key, job, _abandon);
        }
        catch
        {
            Release(key);
            throw;
        }

        _ = SettleWhenDoneAsync(delivery, key, outcome);
    }

    private void DeadLetter(Delivery delivery, string reason, string detail, Exception? exception = null) =>
        _ = _settler.SettleAsync(delivery, Settlement.DeadLetter(reason, detail, exception));

    private async Task SettleWhenDoneAsync(Delivery delivery, string key, ValueTask<JobOutcome<TResult>> pending)
    {
        JobOutcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.UnexpectedFailure(_logger, _consumer, key, ex);
            await _settler.SettleAsync(delivery, Settlement.Requeue).ConfigureAwait(false);
            return;
        }
        finally
        {
            Release(key);
        }

        var decision = SettlementPolicy.Decide(outcome.Status, outcome.Exception, delivery.Message.Attempt, _rules);
        if (decision.ClassifierFailure is { } classifierFailure)
        {
            Log.UnexpectedFailure(_logger, _consumer, key, classifierFailure);
        }

        var reply = decision.Settlement.Kind == SettlementKind.Ack ? SerializeReply(delivery, outcome) : null;
        await _settler.SettleAsync(delivery, decision.Settlement, outcome.Role, reply).ConfigureAwait(false);
    }

    private byte[]? SerializeReply(Delivery delivery, in JobOutcome<TResult> outcome)
    {
        if (delivery.Message.ReplyTo is not { Length: > 0 } replyTo)
        {
            return null;
        }

        try
        {
            return _serializeReply(outcome.Value!);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The job is done either way: ack it, and say why no reply goes out.
            Log.ReplyFailed(_logger, _consumer, delivery.Key ?? string.Empty, replyTo, ex);
            return null;
        }
    }

    private bool TryHold(string key, out int held)
    {
        lock (_holdsLock)
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
        lock (_holdsLock)
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
