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
    /// <summary>Follows the connection's events (a borrowed connection's too: its loss and recovery are ours to follow).</summary>
    private void Follow(IConnection connection)
    {
        connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
        connection.RecoveringConsumerAsync += OnRecoveringConsumerAsync;
        connection.RecoverySucceededAsync += OnRecoverySucceededAsync;
        connection.ConsumerTagChangeAfterRecoveryAsync += OnConsumerTagChangedAsync;
    }

    /// <summary>Stops following them: a borrowed connection outlives this consumer.</summary>
    private void Unfollow(IConnection connection)
    {
        connection.ConnectionShutdownAsync -= OnConnectionShutdownAsync;
        connection.RecoveringConsumerAsync -= OnRecoveringConsumerAsync;
        connection.RecoverySucceededAsync -= OnRecoverySucceededAsync;
        connection.ConsumerTagChangeAfterRecoveryAsync -= OnConsumerTagChangedAsync;
    }

    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs args)
    {
        // Our own close needs no handling; a borrowed connection closed by its owner is a loss like any other (one the
        // client does not recover).
        if (args.Initiator == ShutdownInitiator.Application && source.OwnsConnections)
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
            foreach (var registered in _consumers.Values.Where(registered => registered.Tag == args.TagBefore))
            {
                registered.Tag = args.TagAfter;
            }
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
