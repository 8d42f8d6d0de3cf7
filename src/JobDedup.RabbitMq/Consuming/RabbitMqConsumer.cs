using System.Collections.Concurrent;
using JobDedup.RabbitMq.Publishing;
using JobDedup.RabbitMq.Telemetry;
using JobDedup.RabbitMq.Topology;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMq.Consuming;

/// <summary>
/// Feeds one deduplicator from one queue. Every delivery is enqueued without waiting for the others, so the
/// duplicates within the prefetch window meet in one flight; each is settled once its flight's outcome is known.
/// </summary>
/// <remarks>
/// Consuming and publishing (retries, dead letters, replies) use separate connections, as RabbitMQ advises. A
/// connection loss is survived by the client's recovery; a consumer the broker cancels, or a consuming channel it
/// closes, is re-created here with backoff. Deliveries taken back by the broker meanwhile are recognised by their
/// generation and left to come back, never republished twice.
/// </remarks>
internal sealed partial class RabbitMqConsumer<TJob, TResult> : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(30);

    private readonly RabbitMqConsumerOptions<TJob, TResult> _options;
    private readonly IJobDeduplicator<TJob, TResult> _deduplicator;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Func<RabbitMqMessage, TJob> _deserialize;
    private readonly Func<TResult, byte[]> _serializeReply;
    private readonly ConcurrentDictionary<Delivery, byte> _pending = new();
    private readonly Dictionary<string, int> _heldPerKey = new(StringComparer.Ordinal);
    private readonly Lock _heldSync = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IConnection? _connection;
    private ConfirmedChannel? _publisher;
    private IChannel? _consumeChannel;
    private AckWindow? _window;
    private string[] _consumerTags = [];
    private volatile bool _consuming;
    private volatile bool _consumerCancelled;
    private volatile ConsumerState _state;
    private int _generation;
    private int _resuming;

    public RabbitMqConsumer(
        string name,
        RabbitMqConsumerOptions<TJob, TResult> options,
        IJobDeduplicator<TJob, TResult> deduplicator,
        ILogger logger,
        TimeProvider timeProvider)
    {
        Name = name;
        _options = options;
        _deduplicator = deduplicator;
        _logger = logger;
        _timeProvider = timeProvider;
        _deserialize = Codec<TJob, TResult>.Deserializer(options);
        _serializeReply = Codec<TJob, TResult>.ReplySerializer(options);
    }

    public string Name { get; }

    public ConsumerState State => _state;

    /// <summary>Gets a value indicating whether both connections and the consuming channel are open.</summary>
    public bool IsConnected => _connection?.IsOpen == true && _consumeChannel?.IsOpen == true && _publisher?.IsOpen == true;

    /// <summary>Gets a value indicating whether deliveries are flowing: connected, and the consumer registered with the broker.</summary>
    public bool IsConsuming => _consuming && IsConnected;

    /// <summary>Gets the number of deliveries received and not yet settled.</summary>
    public int Pending => _pending.Count;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _state = ConsumerState.Starting;
        try
        {
            var factory = _options.CreateConnectionFactory(Name);
            try
            {
                _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
                _publisher = new ConfirmedChannel(_options.CreateConnectionFactory(Name, suffix: ":publish"));
                await _publisher.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new InvalidOperationException(
                    $"Consumer '{Name}' could not connect to RabbitMQ at {_options.RedactedUri} ({ex.Message}). " +
                    $"Check the option {nameof(_options.ConnectionUri)} and that the broker is running.",
                    ex);
            }

            _connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
            _connection.RecoverySucceededAsync += OnRecoverySucceededAsync;
            _connection.ConsumerTagChangeAfterRecoveryAsync += OnConsumerTagChangedAsync;
            if (_options.DeclareTopology)
            {
                await RabbitMqTopology.DeclareAsync(_connection, _options, cancellationToken).ConfigureAwait(false);
            }

            // Running before the consumer registers: the broker may deliver at once.
            _state = ConsumerState.Running;
            await ConsumeAsync(cancellationToken).ConfigureAwait(false);
            Log.Consuming(_logger, Name, string.Join(", ", _options.ConsumedQueues), _options.RedactedUri, _options.Prefetch);
        }
        catch
        {
            _state = ConsumerState.Stopped;
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops taking deliveries, lets the ones in progress finish until <paramref name="cancellationToken"/> fires
    /// (the host's shutdown timeout), then returns every unfinished delivery to the queue.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_state is ConsumerState.Stopped or ConsumerState.Stopping)
        {
            return;
        }

        _state = ConsumerState.Stopping;
        await _stopping.CancelAsync().ConfigureAwait(false);
        Log.Stopping(_logger, Name, _pending.Count);
        await CancelConsumerAsync(cancellationToken).ConfigureAwait(false);
        CheckDrained();
        try
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.Requeuing(_logger, Name, _pending.Count);

            // Callers of the deduplicator detach: their flights end as canceled and those deliveries go back to the queue.
            await _abandon.CancelAsync().ConfigureAwait(false);
            foreach (var delivery in _pending.Keys)
            {
                await SettleAsync(delivery, NackAsync).ConfigureAwait(false);
            }
        }

        await FlushAcksAsync().ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
        _state = ConsumerState.Stopped;
        Log.Stopped(_logger, Name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_state is not (ConsumerState.Stopped or ConsumerState.Stopping))
        {
            using var expired = new CancellationTokenSource();
            await expired.CancelAsync().ConfigureAwait(false);
            await StopAsync(expired.Token).ConfigureAwait(false);
        }

        _stopping.Dispose();
        _abandon.Dispose();
    }

    /// <summary>Opens a consuming channel and registers the consumer on it; an earlier channel is closed (its deliveries go back).</summary>
    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        channel.ChannelShutdownAsync += OnConsumeChannelShutdownAsync;
        await channel.BasicQosAsync(0, (ushort)_options.Prefetch, global: false, cancellationToken).ConfigureAwait(false);
        var previous = _consumeChannel;
        if (previous is not null)
        {
            // Deliveries that arrived on the old channel can no longer be acked there; the broker takes them back.
            Interlocked.Increment(ref _generation);
        }

        _consumeChannel = channel;
        var window = new AckWindow(channel, _timeProvider);
        _window = window;

        // Partition queues are subscribed in a shuffled order, so that instances starting together become the single
        // active consumer of different partitions.
        var queues = _options.ConsumedQueues.ToArray();
        Random.Shared.Shuffle(queues);
        var tags = new List<string>(queues.Length);
        foreach (var queue in queues)
        {
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, args) => OnReceivedAsync(window, args);
            consumer.UnregisteredAsync += OnUnregisteredAsync;
            tags.Add(await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false));
        }

        _consumerTags = [.. tags];
        _consumerCancelled = false;
        _consuming = true;
        if (previous is not null)
        {
            await DisposeQuietlyAsync(previous).ConfigureAwait(false);
        }
    }

    private void ResumeConsuming(string reason)
    {
        _consuming = false;
        if (_state != ConsumerState.Running || Interlocked.Exchange(ref _resuming, 1) != 0)
        {
            return;
        }

        Log.ConsumerLost(_logger, Name, _options.Queue, reason);
        _ = ResumeLoopAsync();
    }

    private async Task ResumeLoopAsync()
    {
        var delay = FirstRetryDelay;
        try
        {
            while (_state == ConsumerState.Running && !_consuming)
            {
                try
                {
                    await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
                    if (_connection?.IsOpen != true)
                    {
                        continue; // the client's own recovery comes first
                    }

                    if (!_consumerCancelled && _consumeChannel?.IsOpen == true)
                    {
                        // The connection dropped and the client recovered the channel and the consumer with it.
                        _consuming = true;
                        break;
                    }

                    if (_options.DeclareTopology)
                    {
                        await RabbitMqTopology.DeclareAsync(_connection, _options, _stopping.Token).ConfigureAwait(false);
                    }

                    await ConsumeAsync(_stopping.Token).ConfigureAwait(false);
                    Log.ConsumerResumed(_logger, Name, _options.Queue);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Log.ResumeFailed(_logger, Name, _options.Queue, delay, ex);
                    delay = Min(delay * 2, LongestRetryDelay);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _resuming, 0);
        }
    }

    private async Task CancelConsumerAsync(CancellationToken cancellationToken)
    {
        foreach (var tag in _consumerTags)
        {
            if (_consumeChannel is not { IsOpen: true } channel)
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
                Log.CloseFailed(_logger, Name, ex);
            }
        }
    }

    private async Task FlushAcksAsync()
    {
        if (_window is null)
        {
            return;
        }

        try
        {
            await _window.FlushAllAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unacked on a closing channel: the broker requeues them.
            Log.CloseFailed(_logger, Name, ex);
        }
    }

    private async Task CloseAsync()
    {
        if (_consumeChannel is { } channel)
        {
            await DisposeQuietlyAsync(channel).ConfigureAwait(false);
        }

        if (_publisher is not null)
        {
            await _publisher.DisposeAsync().ConfigureAwait(false);
        }

        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(CloseTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CloseFailed(_logger, Name, ex);
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
            Log.CloseFailed(_logger, Name, ex);
        }
    }

    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator != ShutdownInitiator.Application)
        {
            // The broker requeues everything unacknowledged on this connection: those deliveries are stale from now on.
            Interlocked.Increment(ref _generation);
            _window?.Clear();
            Log.ConnectionLost(_logger, Name, args.ReplyText);
        }

        return Task.CompletedTask;
    }

    private async Task OnRecoverySucceededAsync(object sender, AsyncEventArgs args)
    {
        Log.Reconnected(_logger, Name);
        if (_state != ConsumerState.Running)
        {
            // Recovery registered the consumer again although we are stopping: take it back off.
            await CancelConsumerAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private Task OnConsumerTagChangedAsync(object sender, ConsumerTagChangedAfterRecoveryEventArgs args)
    {
        _consumerTags = [.. _consumerTags.Select(tag => tag == args.TagBefore ? args.TagAfter : tag)];
        return Task.CompletedTask;
    }

    private Task OnConsumeChannelShutdownAsync(object sender, ShutdownEventArgs args)
    {
        // After a connection loss the client recovers the channel and its consumer; a channel the broker closed on an
        // open connection (a channel error, a consumer timeout) it does not. The resume loop tells the two apart once
        // the connection is open again, and opens a new channel only in the second case.
        if (args.Initiator != ShutdownInitiator.Application && ReferenceEquals(sender, _consumeChannel))
        {
            ResumeConsuming($"channel closed: {args.ReplyText}");
        }

        return Task.CompletedTask;
    }

    private Task OnUnregisteredAsync(object sender, ConsumerEventArgs args)
    {
        // After our own cancel the state is no longer Running; otherwise the broker cancelled us (queue deleted, node down).
        if (_state == ConsumerState.Running && ReferenceEquals(((AsyncEventingBasicConsumer)sender).Channel, _consumeChannel))
        {
            _consumerCancelled = true;
            ResumeConsuming("the broker cancelled the consumer");
        }

        return Task.CompletedTask;
    }

    private bool IsStale(Delivery delivery) => delivery.Generation != Volatile.Read(ref _generation);

    private void Track(Delivery delivery) => _pending.TryAdd(delivery, 0);

    private void Untrack(Delivery delivery)
    {
        _pending.TryRemove(delivery, out _);
        CheckDrained();
    }

    private void CheckDrained()
    {
        if (_state == ConsumerState.Stopping && _pending.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>Where a consumer is in its life.</summary>
internal enum ConsumerState
{
    Stopped,
    Starting,
    Running,
    Stopping,
}
