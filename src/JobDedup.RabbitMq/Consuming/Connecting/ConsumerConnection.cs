using System.Diagnostics;
using JobDedup.RabbitMq.Connections;
using JobDedup.RabbitMq.Consuming.Acking;
using JobDedup.RabbitMq.Consuming.Settling;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMq.Consuming.Connecting;

/// <summary>
/// The consuming connection: its channel, the consumers registered on it, the channel's ack window, and the
/// connection generation. The connection comes from its <see cref="ConnectionSource"/>: one of its own, or one the
/// application lent, whose events it follows the same way and which it never closes. A connection loss is survived by the client's automatic recovery, which brings the channel
/// and its consumers back; a channel the broker closes, or a consumer it cancels, on an open connection is re-created
/// here with backoff. It consumes every queue at once, or, when <paramref name="leased"/>, only the queues it is told to
/// (<see cref="SubscribeAsync"/>, <see cref="UnsubscribeAsync"/>): the partitions this instance holds a lease on.
/// </summary>
/// <remarks>
/// Every loss starts a new generation. On a connection loss the window is closed at once (whatever it listed went
/// back to the queue with the connection) and opened again in the new generation just before the client registers
/// the consumers again; a replaced channel gets a new window and the old one is retired.
/// </remarks>
internal sealed partial class ConsumerConnection(
    string consumer,
    ConnectionSource source,
    IReadOnlyList<string> queues,
    bool leased,
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
    private readonly Dictionary<string, QueueTally> _tallies = queues.ToDictionary(queue => queue, queue => new QueueTally(queue), StringComparer.Ordinal);

    /// <summary>Serializes the registrations of consumers: a new channel's, and each subscription or cancellation.</summary>
    private readonly SemaphoreSlim _registering = new(1, 1);

    /// <summary>Guards the state, the channel, its window, the wanted queues, the consumers and the generation.</summary>
    private readonly Lock _stateLock = new();
    private ConnectionState _state;
    private IConnection? _connection;
    private IChannel? _channel;
    private AckWindow? _window;
    private readonly HashSet<string> _wanted = leased ? new(StringComparer.Ordinal) : new(queues, StringComparer.Ordinal);
    private Dictionary<string, DeliveryConsumer> _consumers = new(StringComparer.Ordinal);
    private int _generation;

    /// <summary>
    /// A channel that may hold a consumer nobody knows of (a registration whose answer never came): it is replaced, never
    /// reused to take deliveries again. Only the current channel counts, so a replaced one needs no clearing.
    /// </summary>
    private IChannel? _doubtedChannel;

    /// <summary>The reason of the last connection loss: the client closes the channels with this same reason.</summary>
    private ShutdownEventArgs? _connectionLoss;

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

    /// <summary>Gets the queues with a consumer registered now.</summary>
    public IReadOnlyList<string> Consumed
    {
        get
        {
            lock (_stateLock)
            {
                return [.. _consumers.Keys];
            }
        }
    }

    /// <summary>Gets the count of unsettled deliveries of one of the queues.</summary>
    public QueueTally Tally(string queue) => _tallies[queue];

    /// <summary>Gets a value indicating whether deliveries flow: open, and the consumers registered.</summary>
    public bool IsConsuming => State == ConnectionState.Consuming && IsOpen;

    /// <summary>Connects, declares the topology and registers the consumers; on failure it is left idle, to be tried again.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        Transition(ConnectionState.Idle, ConnectionState.Connecting);
        try
        {
            var connection = await source.OpenAsync(cancellationToken).ConfigureAwait(false);
            _connection = connection;
            Follow(connection);
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
    /// Starts consuming <paramref name="queue"/> on the current channel (nothing happens if it is consumed already). It
    /// stays wanted, so a replaced channel consumes it too. A registration that fails on a channel still open (the
    /// broker may have made it all the same) replaces the channel, which consumes the queue once it is back.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection is not consuming now (it recovers, or stops); try again later.</exception>
    public async Task SubscribeAsync(string queue, CancellationToken cancellationToken)
    {
        await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IChannel channel;
            AckWindow window;
            lock (_stateLock)
            {
                if (_state is not ConnectionState.Consuming || _channel is not { IsOpen: true } open || _window is null)
                {
                    throw new InvalidOperationException($"Consumer '{consumer}' cannot consume {queue} now: the connection is {_state}.");
                }

                _wanted.Add(queue);
                if (_consumers.ContainsKey(queue))
                {
                    return;
                }

                channel = open;
                window = _window;
            }

            var registered = new DeliveryConsumer(channel, window, _tallies[queue], onDelivery, OnBrokerCancelled);
            try
            {
                registered.Tag = await channel.BasicConsumeAsync(queue, autoAck: false, registered, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && channel.IsOpen)
            {
                // The call gave up (the caller's cancellation, a timeout) on an open channel: the broker may have
                // registered the consumer all the same, and would deliver to a consumer nobody knows of, which no
                // unsubscribe could stop once the partition moved on. Only a new channel is sure to have no such
                // consumer: the channel is replaced, and the queue, still wanted, is consumed on the new one. Paused
                // meanwhile, it is replaced when intake resumes.
                lock (_stateLock)
                {
                    _doubtedChannel = channel;
                }

                StartResuming($"the subscription to {queue} was not confirmed ({ex.GetType().Name}: {ex.Message})");
                throw;
            }

            lock (_stateLock)
            {
                _consumers[queue] = registered;
            }
        }
        finally
        {
            _registering.Release();
        }
    }

    /// <summary>
    /// Stops consuming <paramref name="queue"/>: when it returns, the broker sends nothing more from it and every
    /// delivery it sent has been handed over (its tally counts the ones not settled yet).
    /// </summary>
    /// <exception cref="InvalidOperationException">The cancel could not be confirmed (the connection is recovering); try again.</exception>
    public async Task UnsubscribeAsync(string queue, CancellationToken cancellationToken)
    {
        await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            DeliveryConsumer? registered;
            lock (_stateLock)
            {
                _wanted.Remove(queue);
                if (!_consumers.TryGetValue(queue, out registered))
                {
                    return;
                }
            }

            // A consumer kept on a channel that is down would come back with the client's recovery: it is forgotten only
            // once the broker confirmed the cancel (or its channel was replaced, which registers only wanted queues).
            if (registered.Channel is not { IsOpen: true } channel)
            {
                throw new InvalidOperationException($"Consumer '{consumer}' cannot stop consuming {queue} now: its channel is closed.");
            }

            await channel.BasicCancelAsync(registered.Tag, noWait: false, cancellationToken).ConfigureAwait(false);
            await registered.Ended.WaitAsync(CloseTimeout, cancellationToken).ConfigureAwait(false);
            lock (_stateLock)
            {
                if (_consumers.TryGetValue(queue, out var current) && ReferenceEquals(current, registered))
                {
                    _consumers.Remove(queue);
                }
            }
        }
        finally
        {
            _registering.Release();
        }
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

        // A subscription in progress ends first, so that the consumer it registers is among those canceled. A lost
        // connection's recovery registers the consumers again; it cancels them again then (see the recovery).
        try
        {
            await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return true; // stopping: the channel closes with the connection
        }

        try
        {
            await CancelConsumersAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _registering.Release();
        }

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

            channel = ReferenceEquals(_channel, _doubtedChannel) ? null : _channel;
            window = _window;
        }

        if (channel is { IsOpen: true } && window is not null && _connection is { IsOpen: true })
        {
            await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var registered = new Dictionary<string, DeliveryConsumer>(StringComparer.Ordinal);
                await RegisterConsumersAsync(channel, window, registered, cancellationToken).ConfigureAwait(false);
                lock (_stateLock)
                {
                    _consumers = registered;
                    if (_state == ConnectionState.Paused)
                    {
                        _state = ConnectionState.Consuming;
                        AssertInvariants();
                        return true;
                    }
                }

                // Stopped (or paused again) meanwhile: take them back off.
                await CancelConsumersAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.CloseFailed(logger, consumer, ex);
            }
            finally
            {
                _registering.Release();
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
        _registering.Dispose();
    }

    /// <summary>Opens a consuming channel and registers the consumers on it; an earlier channel is closed (its deliveries go back).</summary>
    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        await _registering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ConsumeWantedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _registering.Release();
        }
    }

    private async Task ConsumeWantedAsync(CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        // The client raises the event with its inner channel as the sender, never the channel it handed us: the handler
        // gets ours, to compare with the current one.
        channel.ChannelShutdownAsync += (_, args) => OnChannelShutdownAsync(channel, args);
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

        // Whether or not every registration succeeds, the consumers are those of the new channel, and the old one goes:
        // kept open, its consumers (and one nobody knows of) would keep deliveries nobody settles.
        var consumers = new Dictionary<string, DeliveryConsumer>(StringComparer.Ordinal);
        try
        {
            await RegisterConsumersAsync(channel, window, consumers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_stateLock)
            {
                _consumers = consumers;
            }

            if (previous is not null)
            {
                await DisposeQuietlyAsync(previous).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Registers one consumer per wanted queue on the channel into <paramref name="consumers"/>, which lists those
    /// registered so far if one fails (the caller holds <see cref="_registering"/>).
    /// </summary>
    private async Task RegisterConsumersAsync(IChannel channel, AckWindow window, Dictionary<string, DeliveryConsumer> consumers, CancellationToken cancellationToken)
    {
        string[] wanted;
        lock (_stateLock)
        {
            wanted = [.. _wanted];
        }

        // Without leases, partition queues are subscribed in a shuffled order, so that instances starting together may
        // become the single active consumer of different partitions.
        Random.Shared.Shuffle(wanted);
        foreach (var queue in wanted)
        {
            var registered = new DeliveryConsumer(channel, window, _tallies[queue], onDelivery, OnBrokerCancelled);
            registered.Tag = await channel.BasicConsumeAsync(queue, autoAck: false, registered, cancellationToken).ConfigureAwait(false);
            consumers[queue] = registered;
        }
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

    /// <summary>Cancels every registered consumer; the ones the broker confirmed are forgotten, the others stay listed for the recovery to cancel.</summary>
    private async Task CancelConsumersAsync(CancellationToken cancellationToken)
    {
        KeyValuePair<string, DeliveryConsumer>[] registered;
        IChannel? channel;
        lock (_stateLock)
        {
            registered = [.. _consumers];
            channel = _channel;
        }

        foreach (var (queue, deliveryConsumer) in registered)
        {
            if (channel is not { IsOpen: true })
            {
                return;
            }

            try
            {
                await channel.BasicCancelAsync(deliveryConsumer.Tag, noWait: false, cancellationToken).ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (_consumers.TryGetValue(queue, out var current) && ReferenceEquals(current, deliveryConsumer))
                    {
                        _consumers.Remove(queue);
                    }
                }
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

        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            // A borrowed connection stays open for its owner: only our handlers come off it (and our channel, above).
            Unfollow(connection);
            await source.ReleaseAsync(connection, CloseTimeout, ex => Log.CloseFailed(logger, consumer, ex)).ConfigureAwait(false);
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
