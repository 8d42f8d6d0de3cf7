using JobDedup.RabbitMq.Telemetry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <content>
/// The client's connection and channel events: a loss closes the window and starts a generation, the client's
/// recovery reopens it, and a channel or consumer lost on an open connection starts the resume loop.
/// </content>
internal sealed partial class ConsumerConnection
{
    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator == ShutdownInitiator.Application)
        {
            return Task.CompletedTask;
        }

        // The broker requeues everything unacknowledged on this connection: the window forgets it, under its own lock,
        // so a delivery copied meanwhile is refused rather than listed in a generation that is over.
        lock (_stateLock)
        {
            _generation++;
            _window?.Close();
            if (_state == ConnectionState.Consuming)
            {
                _state = ConnectionState.Interrupted;
            }

            AssertInvariants();
        }

        Log.ConnectionLost(logger, consumer, args.ReplyText);
        return Task.CompletedTask;
    }

    private Task OnRecoveringConsumerAsync(object sender, RecoveringConsumerEventArgs args)
    {
        // Just before the client registers a consumer again: deliveries from now on belong to the new connection.
        lock (_stateLock)
        {
            _window?.Reopen(_generation);
        }

        return Task.CompletedTask;
    }

    private async Task OnRecoverySucceededAsync(object sender, AsyncEventArgs args)
    {
        Log.Reconnected(logger, consumer);
        bool draining;
        lock (_stateLock)
        {
            _window?.Reopen(_generation);
            if (_state == ConnectionState.Interrupted)
            {
                _state = ConnectionState.Consuming;
            }

            draining = _state is ConnectionState.Draining or ConnectionState.Paused;
            AssertInvariants();
        }

        if (draining)
        {
            // Recovery registered the consumers again although we are stopping or paused: take them back off.
            await CancelConsumersAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private Task OnConsumerTagChangedAsync(object sender, ConsumerTagChangedAfterRecoveryEventArgs args)
    {
        lock (_stateLock)
        {
            _consumerTags = [.. _consumerTags.Select(tag => tag == args.TagBefore ? args.TagAfter : tag)];
        }

        return Task.CompletedTask;
    }

    private Task OnChannelShutdownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator == ShutdownInitiator.Application || !ReferenceEquals(sender, Volatile.Read(ref _channel)))
        {
            return Task.CompletedTask;
        }

        if (_connection?.IsOpen == true)
        {
            // The broker closed the channel on an open connection (a channel error, a consumer timeout): the client does
            // not recover it. Its deliveries went back with it.
            lock (_stateLock)
            {
                _window?.Retire();
            }

            StartResuming($"channel closed: {args.ReplyText}");
        }
        else
        {
            // Part of a connection loss: the connection's handler and the client's recovery deal with it.
            lock (_stateLock)
            {
                _window?.Close();
            }
        }

        return Task.CompletedTask;
    }

    private void OnBrokerCancelled(DeliveryConsumer cancelled)
    {
        // Our own cancel moved the state to Draining first; otherwise the broker cancelled us (queue deleted, node down).
        if (ReferenceEquals(cancelled.Channel, Volatile.Read(ref _channel)))
        {
            StartResuming("the broker cancelled the consumer");
        }
    }
}
