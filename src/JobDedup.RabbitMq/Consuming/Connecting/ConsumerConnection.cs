using System.Diagnostics;
using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>
/// The consuming connection: its channel, the consumers registered on it, the channel's ack window, and the
/// connection generation. A connection loss is survived by the client's automatic recovery, which brings the channel
/// and its consumers back; a channel the broker closes, or a consumer it cancels, on an open connection is re-created
/// here with backoff.
/// </summary>
/// <remarks>
/// Every loss starts a new generation. On a connection loss the window is closed at once (whatever it listed went
/// back to the queue with the connection) and opened again in the new generation just before the client registers
/// the consumers again; a replaced channel gets a new window and the old one is retired.
/// </remarks>
internal sealed partial class ConsumerConnection(
    string consumer,
    ConnectionFactory factory,
    IReadOnlyList<string> queues,
    int prefetch,
    Func<IConnection, CancellationToken, Task>? declareTopology,
    DeliveryHandler onDelivery,
    TimeProvider timeProvider,
    ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _closing = new();

    /// <summary>Guards the state, the channel, its window, the consumer tags and the generation.</summary>
    private readonly Lock _stateLock = new();
    private ConnectionState _state;
    private IConnection? _connection;
    private IChannel? _channel;
    private AckWindow? _window;
    private string[] _consumerTags = [];
    private int _generation;

    public ConnectionState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Gets the connection generation: raised by every connection loss and every replaced channel.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Gets the ack window of the current channel.</summary>
    public AckWindow? Window => Volatile.Read(ref _window);

    /// <summary>Gets a value indicating whether the connection and the consuming channel are open.</summary>
    public bool IsOpen => _connection?.IsOpen == true && Volatile.Read(ref _channel)?.IsOpen == true;

    /// <summary>Gets a value indicating whether deliveries flow: open, and the consumers registered.</summary>
    public bool IsConsuming => State == ConnectionState.Consuming && IsOpen;

    /// <summary>Connects, declares the topology and registers the consumers; on failure it is left idle, to be tried again.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        Transition(ConnectionState.Idle, ConnectionState.Connecting);
        try
        {
            var connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
            _connection = connection;
            connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
            connection.RecoveringConsumerAsync += OnRecoveringConsumerAsync;
            connection.RecoverySucceededAsync += OnRecoverySucceededAsync;
            connection.ConsumerTagChangeAfterRecoveryAsync += OnConsumerTagChangedAsync;
            if (declareTopology is not null)
            {
                await declareTopology(connection, cancellationToken).ConfigureAwait(false);
            }

            await ConsumeAsync(cancellationToken).ConfigureAwait(false);
            Transition(ConnectionState.Connecting, ConnectionState.Consuming);
        }
        catch
        {
            await CloseConnectionAsync().ConfigureAwait(false);
            Transition(ConnectionState.Connecting, ConnectionState.Idle);
            throw;
        }
    }

    /// <summary>Cancels the consumers: the broker stops delivering, and deliveries in progress can still be settled.</summary>
    public async Task StopConsumingAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            if (_state is ConnectionState.Closed or ConnectionState.Idle)
            {
                return;
            }

            _state = ConnectionState.Draining;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        await CancelConsumersAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pauses intake: cancels the consumers so that the broker stops delivering, and keeps the channel, so that the
    /// deliveries in hand can still be settled on it. A no-op unless consuming (or recovering a lost connection).
    /// </summary>
    /// <returns><see langword="true"/> when intake was paused by this call.</returns>
    public async Task<bool> PauseAsync(CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            if (_state is not (ConnectionState.Consuming or ConnectionState.Interrupted))
            {
                return false;
            }

            _state = ConnectionState.Paused;
            AssertInvariants();
        }

        // A lost connection's recovery registers the consumers again; it cancels them again then (see the recovery).
        await CancelConsumersAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Takes deliveries again after <see cref="PauseAsync"/>: on the same channel when it is open, else on a new one.</summary>
    /// <returns><see langword="true"/> when intake was resumed (or is being resumed) by this call.</returns>
    public async Task<bool> UnpauseAsync(CancellationToken cancellationToken)
    {
        IChannel? channel;
        AckWindow? window;
        lock (_stateLock)
        {
            if (_state != ConnectionState.Paused)
            {
                return false;
            }

            channel = _channel;
            window = _window;
        }

        if (channel is { IsOpen: true } && window is not null && _connection is { IsOpen: true })
        {
            try
            {
                var tags = await RegisterConsumersAsync(channel, window, cancellationToken).ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (_state == ConnectionState.Paused)
                    {
                        _consumerTags = tags;
                        _state = ConnectionState.Consuming;
                        AssertInvariants();
                        return true;
                    }
                }

                // Stopped (or paused again) meanwhile: take them back off.
                lock (_stateLock)
                {
                    _consumerTags = tags;
                }

                await CancelConsumersAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.CloseFailed(logger, consumer, ex);
            }
        }

        // The channel is gone: the resume loop opens a new one once the connection is back.
        if (TryTransition(ConnectionState.Paused, ConnectionState.Resuming))
        {
            Log.ConsumerLost(logger, consumer, string.Join(", ", queues), "intake resumes on a new channel");
            _ = ResumeAsync();
            return true;
        }

        return false;
    }

    /// <summary>Writes every pending ack of the current channel (before it closes).</summary>
    public async Task FlushAsync()
    {
        if (Window is not { } window)
        {
            return;
        }

        try
        {
            await window.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unacked on a closing channel: the broker requeues them.
            Log.CloseFailed(logger, consumer, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        AckWindow? window;
        lock (_stateLock)
        {
            if (_state == ConnectionState.Closed)
            {
                return;
            }

            _state = ConnectionState.Closed;
            window = _window;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        window?.Retire();
        await CloseConnectionAsync().ConfigureAwait(false);
        _closing.Dispose();
    }

    /// <summary>Opens a consuming channel and registers the consumers on it; an earlier channel is closed (its deliveries go back).</summary>
    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        channel.ChannelShutdownAsync += OnChannelShutdownAsync;
        await channel.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken).ConfigureAwait(false);
        IChannel? previous;
        AckWindow? previousWindow;
        AckWindow window;
        lock (_stateLock)
        {
            previous = _channel;
            previousWindow = _window;
            if (previous is not null)
            {
                // Deliveries that arrived on the old channel can no longer be acked there; the broker takes them back.
                _generation++;
            }

            // The prefetch applies per consumer, and there is one consumer per queue on the channel.
            window = new AckWindow(channel, timeProvider, prefetch * queues.Count, _generation);
            _channel = channel;
            _window = window;
        }

        previousWindow?.Retire();

        var tags = await RegisterConsumersAsync(channel, window, cancellationToken).ConfigureAwait(false);
        lock (_stateLock)
        {
            _consumerTags = tags;
        }

        if (previous is not null)
        {
            await DisposeQuietlyAsync(previous).ConfigureAwait(false);
        }
    }

    /// <summary>Registers one consumer per queue on the channel.</summary>
    private async Task<string[]> RegisterConsumersAsync(IChannel channel, AckWindow window, CancellationToken cancellationToken)
    {
        // Partition queues are subscribed in a shuffled order, so that instances starting together become the single
        // active consumer of different partitions.
        var shuffled = queues.ToArray();
        Random.Shared.Shuffle(shuffled);
        var tags = new string[shuffled.Length];
        for (var i = 0; i < shuffled.Length; i++)
        {
            var registered = new DeliveryConsumer(channel, window, onDelivery, OnBrokerCancelled);
            tags[i] = await channel.BasicConsumeAsync(shuffled[i], autoAck: false, registered, cancellationToken).ConfigureAwait(false);
        }

        return tags;
    }

    private void StartResuming(string reason)
    {
        lock (_stateLock)
        {
            if (_state != ConnectionState.Consuming && _state != ConnectionState.Interrupted)
            {
                return;
            }

            _state = ConnectionState.Resuming;
            AssertInvariants();
        }

        Log.ConsumerLost(logger, consumer, string.Join(", ", queues), reason);
        _ = ResumeAsync();
    }

    private async Task ResumeAsync()
    {
        var delay = FirstRetryDelay;
        while (State == ConnectionState.Resuming)
        {
            try
            {
                await Task.Delay(delay, timeProvider, _closing.Token).ConfigureAwait(false);
                if (_connection is not { IsOpen: true } connection)
                {
                    continue; // the client's own recovery comes first
                }

                if (declareTopology is not null)
                {
                    await declareTopology(connection, _closing.Token).ConfigureAwait(false);
                }

                await ConsumeAsync(_closing.Token).ConfigureAwait(false);
                if (TryTransition(ConnectionState.Resuming, ConnectionState.Consuming))
                {
                    Log.ConsumerResumed(logger, consumer, string.Join(", ", queues));
                }
            }
            catch (OperationCanceledException) when (_closing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.ResumeFailed(logger, consumer, string.Join(", ", queues), delay, ex);
                delay = delay * 2 < LongestRetryDelay ? delay * 2 : LongestRetryDelay;
            }
        }
    }

    private async Task CancelConsumersAsync(CancellationToken cancellationToken)
    {
        string[] tags;
        IChannel? channel;
        lock (_stateLock)
        {
            tags = _consumerTags;
            channel = _channel;
        }

        foreach (var tag in tags)
        {
            if (channel is not { IsOpen: true })
            {
                return;
            }

            try
            {
                await channel.BasicCancelAsync(tag, noWait: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The channel is gone or the broker is slow: the broker stops delivering when the channel closes anyway.
                Log.CloseFailed(logger, consumer, ex);
            }
        }
    }

    private async Task CloseConnectionAsync()
    {
        if (Volatile.Read(ref _channel) is { } channel)
        {
            await DisposeQuietlyAsync(channel).ConfigureAwait(false);
        }

        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(CloseTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CloseFailed(logger, consumer, ex);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task DisposeQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await channel.CloseAsync(timeout.Token).ConfigureAwait(false);
            }

            await channel.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.CloseFailed(logger, consumer, ex);
        }
    }

    private void Transition(ConnectionState from, ConnectionState to)
    {
        if (!TryTransition(from, to))
        {
            throw new InvalidOperationException($"Consumer '{consumer}': the connection is {State}, not {from}.");
        }
    }

    private bool TryTransition(ConnectionState from, ConnectionState to)
    {
        lock (_stateLock)
        {
            if (_state != from)
            {
                return false;
            }

            _state = to;
            AssertInvariants();
            return true;
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_stateLock.IsHeldByCurrentThread, "the state is read under its lock");
        Debug.Assert(_state is not ConnectionState.Consuming || (_channel is not null && _window is not null), "consuming needs a channel and its window");
        Debug.Assert(_window is null || ReferenceEquals(_window.Channel, _channel), "the window belongs to the current channel");
    }
}
