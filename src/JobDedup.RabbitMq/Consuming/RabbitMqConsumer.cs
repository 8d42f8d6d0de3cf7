using System.Collections.Concurrent;
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
internal sealed partial class RabbitMqConsumer<TJob, TResult> : IHostedService, IAsyncDisposable
{
    private readonly RabbitMqConsumerOptions<TJob, TResult> _options;
    private readonly IJobDeduplicator<TJob, TResult> _deduplicator;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Func<RabbitMqMessage, TJob> _deserialize;
    private readonly Func<TResult, byte[]> _serializeReply;
    private readonly ConcurrentDictionary<Delivery, byte> _pending = new();
    private readonly Dictionary<string, int> _heldPerKey = new(StringComparer.Ordinal);
    private readonly Lock _heldSync = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IConnection? _connection;
    private IChannel? _consumeChannel;
    private IChannel? _publishChannel;
    private string? _consumerTag;
    private volatile ConsumerState _state;

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

    public bool IsConnected => _connection?.IsOpen == true && _consumeChannel?.IsOpen == true;

    /// <summary>Gets the number of deliveries received and not yet settled.</summary>
    public int Pending => _pending.Count;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _state = ConsumerState.Starting;
        var factory = _options.CreateConnectionFactory(Name);
        try
        {
            _connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _state = ConsumerState.Stopped;
            throw new InvalidOperationException(
                $"Consumer '{Name}' could not connect to RabbitMQ at {_options.RedactedUri} ({ex.Message}). " +
                $"Check the option {nameof(_options.ConnectionUri)} and that the broker is running.",
                ex);
        }

        _connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
        _connection.RecoverySucceededAsync += OnRecoverySucceededAsync;
        if (_options.DeclareTopology)
        {
            await RabbitMqTopology.DeclareAsync(_connection, _options, cancellationToken).ConfigureAwait(false);
        }

        _publishChannel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);
        _consumeChannel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _consumeChannel.BasicQosAsync(0, (ushort)_options.Prefetch, global: false, cancellationToken).ConfigureAwait(false);

        var consumer = new AsyncEventingBasicConsumer(_consumeChannel);
        consumer.ReceivedAsync += OnReceivedAsync;
        _consumerTag = await _consumeChannel.BasicConsumeAsync(_options.Queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        _state = ConsumerState.Running;
        Log.Consuming(_logger, Name, _options.Queue, _options.RedactedUri, _options.Prefetch);
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
        Log.Stopping(_logger, Name, _pending.Count);
        await CancelConsumerAsync().ConfigureAwait(false);
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
                await RequeueAsync(delivery).ConfigureAwait(false);
            }
        }

        await CloseAsync().ConfigureAwait(false);
        _state = ConsumerState.Stopped;
        Log.Stopped(_logger, Name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_state != ConsumerState.Stopped)
        {
            using var expired = new CancellationTokenSource();
            await expired.CancelAsync().ConfigureAwait(false);
            await StopAsync(expired.Token).ConfigureAwait(false);
        }

        _abandon.Dispose();
    }

    private async Task CancelConsumerAsync()
    {
        if (_consumeChannel is { IsOpen: true } channel && _consumerTag is not null)
        {
            try
            {
                await channel.BasicCancelAsync(_consumerTag).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The channel is gone: the broker stops delivering on it anyway.
                Log.SettleFailed(_logger, Name, null, ex);
            }
        }
    }

    private async Task CloseAsync()
    {
        foreach (var channel in new[] { _consumeChannel, _publishChannel })
        {
            if (channel is not null)
            {
                try
                {
                    await channel.CloseAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.SettleFailed(_logger, Name, null, ex);
                }

                await channel.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_connection is not null)
        {
            try
            {
                await _connection.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.SettleFailed(_logger, Name, null, ex);
            }

            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator != ShutdownInitiator.Application)
        {
            Log.ConnectionLost(_logger, Name, args.ReplyText);
        }

        return Task.CompletedTask;
    }

    private Task OnRecoverySucceededAsync(object sender, AsyncEventArgs args)
    {
        Log.Reconnected(_logger, Name);
        return Task.CompletedTask;
    }

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
}

/// <summary>Where a consumer is in its life.</summary>
internal enum ConsumerState
{
    Stopped,
    Starting,
    Running,
    Stopping,
}
