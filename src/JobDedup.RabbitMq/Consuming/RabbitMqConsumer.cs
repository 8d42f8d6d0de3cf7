using JobDedup.Partitions;
using JobDedup.RabbitMq.Connections;
using JobDedup.RabbitMq.Consuming.Connecting;
using JobDedup.RabbitMq.Consuming.Intake;
using JobDedup.RabbitMq.Consuming.Settling;
using JobDedup.RabbitMq.Partitions;
using JobDedup.RabbitMq.Publishing;
using JobDedup.RabbitMq.Telemetry;
using JobDedup.RabbitMq.Topology;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Consuming;

/// <summary>
/// Feeds one deduplicator from one queue, as a hosted service. It owns the consumer's life (start, run, drain, stop)
/// and wires the parts that do the work: the consuming connection (<see cref="ConsumerConnection"/>), the intake
/// (<see cref="DeliveryIntake{TJob, TResult}"/>), the settler with its republisher and replies
/// (<see cref="Settler"/>), and a separate publishing connection, as RabbitMQ advises. On a partitioned queue with a
/// lease store, a <see cref="PartitionCoordinator"/> decides which partition queues it consumes.
/// </summary>
internal sealed class RabbitMqConsumer<TJob, TResult> : IHostedService, IAsyncDisposable
{
    /// <summary>How long the requeues after an expired shutdown may take before the channel closes anyway.</summary>
    private static readonly TimeSpan RequeueTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before connecting again to a broker that could not be reached at start; it doubles.</summary>
    private static readonly TimeSpan FirstConnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two tries to reach the broker.</summary>
    private static readonly TimeSpan LongestConnectDelay = TimeSpan.FromSeconds(30);

    private readonly RabbitMqConsumerOptions<TJob, TResult> _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly ConnectionSource _source;
    private readonly ConfirmedChannel _publisher;
    private readonly Settler _settler;
    private readonly DeliveryIntake<TJob, TResult> _intake;
    private readonly ConsumerConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly PartitionCoordinator? _partitions;
    private readonly StorePause _storePause;
    private int _state;
    private Task _connecting = Task.CompletedTask;

    public RabbitMqConsumer(
        string name,
        RabbitMqConsumerOptions<TJob, TResult> options,
        IJobDeduplicator<TJob, TResult> deduplicator,
        KeyPolicy keyPolicy,
        Func<Exception, bool>? isPermanentFailure,
        ILogger logger,
        TimeProvider timeProvider,
        IPartitionLeaseStore? partitionLeases = null,
        IServiceProvider? services = null)
    {
        Name = name;
        _options = options;
        _logger = logger;
        _timeProvider = timeProvider;
        var meter = new SettlementMeter(name);
        _source = options.CreateSource(services, name);
        _publisher = new ConfirmedChannel(options.CreateSource(services, name, suffix: ":publish"));
        var republisher = new Republisher(name, RepublishRoutes.From(options), _publisher, timeProvider, meter, logger, _stopping.Token, _abandon.Token);
        var replies = new ReplySender(name, _publisher, logger, _abandon.Token);
        _settler = new Settler(name, options.DeadLetterQueueName, republisher, replies, meter, logger);
        var monitor = deduplicator as IOutcomeStoreMonitor;
        _intake = new DeliveryIntake<TJob, TResult>(
            name,
            options,
            deduplicator,
            keyPolicy,
            isPermanentFailure,
            _settler,
            logger,
            () => State == ConsumerState.Running,
            () => monitor is { StoreState: not OutcomeStoreState.Available },
            _abandon.Token);
        _connection = new ConsumerConnection(
            name,
            _source,
            options.ConsumedQueues,
            leased: options.Partitions > 0 && partitionLeases is not null,
            options.Prefetch,
            options.DeclareTopology ? (connection, ct) => RabbitMqTopology.DeclareAsync(connection, options, ct) : null,
            _intake.OnDeliveryAsync,
            timeProvider,
            logger);
        _storePause = new StorePause(name, monitor, _connection, () => _settler.Unsettled, logger, _stopping.Token);
        if (options.Partitions > 0 && partitionLeases is not null)
        {
            _partitions = new PartitionCoordinator(name, options.Queue, options.ConsumedQueues, partitionLeases, _connection, timeProvider, logger);
        }
    }

    public string Name { get; }

    public ConsumerState State => (ConsumerState)Volatile.Read(ref _state);

    /// <summary>Gets why the broker could not be reached, while <see cref="State"/> is <see cref="ConsumerState.Connecting"/>.</summary>
    public string? LastConnectError { get; private set; }

    /// <summary>Gets a value indicating whether both connections and the consuming channel are open.</summary>
    public bool IsConnected => _connection.IsOpen && _publisher.IsOpen;

    /// <summary>Gets a value indicating whether deliveries are flowing: connected, and the consumers registered with the broker.</summary>
    public bool IsConsuming => _connection.IsConsuming && _publisher.IsOpen;

    /// <summary>Gets the deduplicator's outcome store state: intake is paused unless it is available.</summary>
    public OutcomeStoreState StoreState => _storePause.StoreState;

    /// <summary>Gets a value indicating whether intake is paused because the outcome store is unavailable.</summary>
    public bool IsPaused => _storePause.IsPaused;

    /// <summary>Gets the number of deliveries received and not yet settled.</summary>
    public int Pending => _settler.Unsettled;

    /// <summary>Gets how many deliveries the current channel's ack window lists.</summary>
    internal int ListedDeliveries => _connection.Window?.Listed ?? 0;

    /// <summary>Gets the partition coordinator, when partition leases decide what this instance consumes.</summary>
    internal PartitionCoordinator? Partitions => _partitions;

    /// <summary>Gets the queues with a consumer registered now.</summary>
    internal IReadOnlyList<string> ConsumedQueues => _connection.Consumed;

    /// <summary>Gets the consuming connection's generation.</summary>
    internal int ConnectionGeneration => _connection.Generation;

    /// <summary>Gets or sets the intake's test seam between copying a delivery and listing it.</summary>
    internal Func<RabbitMqMessage, Task>? DeliveryCopied
    {
        get => _intake.DeliveryCopied;
        set => _intake.DeliveryCopied = value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ConsumerState.Starting);
        try
        {
            await OpenAsync(ConsumerState.Starting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_options.FailFastOnStart && ConnectFailure.Classify(ex) != ConnectFailureKind.Other)
        {
            // The rest of the host runs on: connect in the background, unhealthy until consuming (and saying why).
            LastConnectError = ConnectFailure.Reason(ex, _source);
            await CloseAsync(dispose: false).ConfigureAwait(false);
            SetState(ConsumerState.Connecting);
            LogConnectFailed(ex, FirstConnectDelay, first: true);
            _connecting = ConnectInBackgroundAsync();
            return;
        }
        catch (Exception ex)
        {
            SetState(ConsumerState.Stopped);
            await CloseAsync().ConfigureAwait(false);
            if (ex is OperationCanceledException || (ex is InvalidOperationException && ConnectFailure.Classify(ex) == ConnectFailureKind.Other))
            {
                throw;
            }

            throw new InvalidOperationException(
                ConnectFailure.Classify(ex) == ConnectFailureKind.CredentialsRefused
                    ? $"Consumer '{Name}' could not connect to RabbitMQ: {ConnectFailure.Reason(ex, _source)}."
                    : $"Consumer '{Name}' could not connect to RabbitMQ at {_source.Broker} ({ex.Message}). " +
                      $"Check {_source.Setting} and that the broker is running " +
                      $"(or turn {nameof(_options.FailFastOnStart)} off to start anyway and connect in the background).",
                ex);
        }
    }

    /// <summary>
    /// Stops taking deliveries, lets the ones in progress finish until <paramref name="cancellationToken"/> fires
    /// (the host's shutdown timeout), then returns every unfinished delivery to the queue.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = State;
            if (current is ConsumerState.Stopped or ConsumerState.Stopping)
            {
                return;
            }

            if (TryTransition(current, ConsumerState.Stopping))
            {
                break;
            }
        }

        _storePause.Stop();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _connecting.ConfigureAwait(false);
        Log.Stopping(_logger, Name, Pending);
        if (_partitions is not null)
        {
            await _partitions.StopAsync().ConfigureAwait(false);
        }

        await _connection.StopConsumingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _settler.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.Requeuing(_logger, Name, Pending);

            // Callers of the deduplicator detach: their flights end as canceled and those deliveries go back to the queue.
            await _abandon.CancelAsync().ConfigureAwait(false);
            foreach (var delivery in _connection.Window?.StillInProgress() ?? [])
            {
                await _settler.SettleAsync(delivery, Settlement.Requeue).ConfigureAwait(false);
            }

            // The deliveries whose flights ended as canceled are being requeued by their own settlements: let those
            // nacks reach the wire before the channel closes.
            using var requeued = new CancellationTokenSource(RequeueTimeout);
            try
            {
                await _settler.DrainAsync(requeued.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Whatever is still unsettled goes back to the queue when the channel closes.
            }
        }

        await _connection.FlushAsync().ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
        if (_partitions is not null)
        {
            // Everything taken is settled or back in its queue with the closed channel: the others may take over now.
            using var leaving = new CancellationTokenSource(RequeueTimeout);
            await _partitions.LeaveAsync(leaving.Token).ConfigureAwait(false);
        }

        SetState(ConsumerState.Stopped);
        Log.Stopped(_logger, Name);
    }

    public async ValueTask DisposeAsync()
    {
        if (State is not (ConsumerState.Stopped or ConsumerState.Stopping))
        {
            using var expired = new CancellationTokenSource();
            await expired.CancelAsync().ConfigureAwait(false);
            await StopAsync(expired.Token).ConfigureAwait(false);
        }

        if (_partitions is not null)
        {
            await _partitions.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _abandon.Dispose();
    }

    /// <summary>
    /// Opens the publishing connection, then the consuming one; the state becomes Running just before the consumers
    /// register (the broker may deliver at once), unless a stop came first.
    /// </summary>
    private async Task<bool> OpenAsync(ConsumerState from, CancellationToken cancellationToken)
    {
        await _publisher.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!TryTransition(from, ConsumerState.Running))
        {
            return false; // stopping
        }

        try
        {
            await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            TryTransition(ConsumerState.Running, from);
            throw;
        }

        Log.Consuming(
            _logger,
            Name,
            _partitions is null ? string.Join(", ", _options.ConsumedQueues) : $"{_options.Queue} (the partitions it holds a lease on)",
            _source.Broker,
            _options.Prefetch);
        _partitions?.Start();
        _storePause.Start();
        return true;
    }

    /// <summary>Tries to reach the broker with backoff until it consumes or the consumer stops; logs only the change.</summary>
    private async Task ConnectInBackgroundAsync()
    {
        var delay = FirstConnectDelay;
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
                if (await OpenAsync(ConsumerState.Connecting, _stopping.Token).ConfigureAwait(false))
                {
                    LastConnectError = null;
                    Log.BrokerReached(_logger, Name, attempt);
                }

                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed try leaves both connections closed, ready for the next one.
                LastConnectError = ConnectFailure.Reason(ex, _source);
                delay = delay * 2 < LongestConnectDelay ? delay * 2 : LongestConnectDelay;
                LogConnectFailed(ex, delay, first: false);
                await CloseAsync(dispose: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Logs a failed connect: refused credentials at every try, as an error (they do not fix themselves, and the
    /// consumer must not retry them silently); an unreachable broker once at warning, then each try at debug.
    /// </summary>
    private void LogConnectFailed(Exception exception, TimeSpan next, bool first)
    {
        if (ConnectFailure.Classify(exception) == ConnectFailureKind.CredentialsRefused)
        {
            Log.CredentialsRefused(_logger, Name, ConnectFailure.Reason(exception, _source), next);
        }
        else if (first)
        {
            Log.BrokerUnreachable(_logger, Name, _source.Broker, exception.Message, next);
        }
        else
        {
            Log.BrokerStillUnreachable(_logger, Name, next, exception);
        }
    }

    private void SetState(ConsumerState state) => Volatile.Write(ref _state, (int)state);

    private bool TryTransition(ConsumerState from, ConsumerState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

    private async Task CloseAsync(bool dispose = true)
    {
        if (dispose)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        await _publisher.DisposeAsync().ConfigureAwait(false);
    }
}
