using JobDedup.RabbitMq.Consuming.Connecting;
using JobDedup.RabbitMq.Consuming.Intake;
using JobDedup.RabbitMq.Consuming.Settling;
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
/// (<see cref="Settler"/>), and a separate publishing connection, as RabbitMQ advises.
/// </summary>
internal sealed class RabbitMqConsumer<TJob, TResult> : IHostedService, IAsyncDisposable
{
    /// <summary>How long the requeues after an expired shutdown may take before the channel closes anyway.</summary>
    private static readonly TimeSpan RequeueTimeout = TimeSpan.FromSeconds(5);

    private readonly RabbitMqConsumerOptions<TJob, TResult> _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abandon = new();
    private readonly ConfirmedChannel _publisher;
    private readonly Settler _settler;
    private readonly DeliveryIntake<TJob, TResult> _intake;
    private readonly ConsumerConnection _connection;
    private readonly StorePause _storePause;
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
        _logger = logger;
        var meter = new SettlementMeter(name);
        _publisher = new ConfirmedChannel(options.CreateConnectionFactory(name, suffix: ":publish"));
        var republisher = new Republisher(name, RepublishRoutes.From(options), _publisher, timeProvider, meter, logger, _stopping.Token, _abandon.Token);
        var replies = new ReplySender(name, _publisher, logger, _abandon.Token);
        _settler = new Settler(name, options.DeadLetterQueueName, republisher, replies, meter, logger);
        var monitor = deduplicator as IOutcomeStoreMonitor;
        _intake = new DeliveryIntake<TJob, TResult>(
            name,
            options,
            deduplicator,
            _settler,
            logger,
            () => _state == ConsumerState.Running,
            () => monitor is { StoreState: not OutcomeStoreState.Available },
            _abandon.Token);
        _connection = new ConsumerConnection(
            name,
            options.CreateConnectionFactory(name),
            options.ConsumedQueues,
            options.Prefetch,
            options.DeclareTopology ? (connection, ct) => RabbitMqTopology.DeclareAsync(connection, options, ct) : null,
            _intake.OnDeliveryAsync,
            timeProvider,
            logger);
        _storePause = new StorePause(name, monitor, _connection, () => _settler.Unsettled, logger, _stopping.Token);
    }

    public string Name { get; }

    public ConsumerState State => _state;

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
        _state = ConsumerState.Starting;
        try
        {
            try
            {
                await _publisher.OpenAsync(cancellationToken).ConfigureAwait(false);

                // Running before the consumers register: the broker may deliver at once.
                _state = ConsumerState.Running;
                await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or InvalidOperationException))
            {
                throw new InvalidOperationException(
                    $"Consumer '{Name}' could not connect to RabbitMQ at {_options.RedactedUri} ({ex.Message}). " +
                    $"Check the option {nameof(_options.ConnectionUri)} and that the broker is running.",
                    ex);
            }

            Log.Consuming(_logger, Name, string.Join(", ", _options.ConsumedQueues), _options.RedactedUri, _options.Prefetch);
            _storePause.Start();
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
        _storePause.Stop();
        await _stopping.CancelAsync().ConfigureAwait(false);
        Log.Stopping(_logger, Name, Pending);
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

    private async Task CloseAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _publisher.DisposeAsync().ConfigureAwait(false);
    }
}
