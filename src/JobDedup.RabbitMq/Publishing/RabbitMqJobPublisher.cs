using System.Text.Json;
using JobDedup.RabbitMq.Connections;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using JobDedup.RabbitMq.Publishing;
using JobDedup.RabbitMq.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.RabbitMq;

/// <summary>
/// Publishes jobs over one connection and one channel with publisher confirms. Safe for concurrent use; connects on
/// first use and reconnects by itself after a connection loss.
/// </summary>
public sealed class RabbitMqJobPublisher : IJobPublisher, IAsyncDisposable
{
    private readonly RabbitMqPublisherOptions _options;
    private readonly ILogger _logger;
    private readonly ConnectionSource _source;
    private readonly ConfirmedChannel _channel;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="RabbitMqJobPublisher"/> class.</summary>
    /// <param name="options">Where and how to publish.</param>
    /// <param name="logger">Where failures are logged.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">
    /// The options take the connection from the service container (<see cref="RabbitMqConnectionOptions.UseConnection()"/>),
    /// which a publisher built here has not: register it with <c>AddJobPublisher</c>.
    /// </exception>
    public RabbitMqJobPublisher(RabbitMqPublisherOptions options, ILogger<RabbitMqJobPublisher>? logger = null)
        : this(options, services: null, logger)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RabbitMqJobPublisher"/> class, given the container for an injected connection.</summary>
    internal RabbitMqJobPublisher(RabbitMqPublisherOptions options, IServiceProvider? services, ILogger<RabbitMqJobPublisher>? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid RabbitMQ publisher options: {string.Join(" ", errors)}", nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _source = options.CreateSource(services, "publisher");
        _channel = new ConfirmedChannel(_source);
    }

    /// <inheritdoc/>
    public Task PublishAsync<TJob>(string key, TJob job, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);

        // Bytes are a body already: serializing them would send a base64 string.
        switch (job)
        {
            case byte[] bytes:
                return PublishCoreAsync(key, bytes, properties, null, cancellationToken);
            case ReadOnlyMemory<byte> memory:
                return PublishCoreAsync(key, memory, properties, null, cancellationToken);
            case Memory<byte> memory:
                return PublishCoreAsync(key, memory, properties, null, cancellationToken);
            default:
                break;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(job, _options.JsonOptions);
        return PublishCoreAsync(key, body, properties, "application/json", cancellationToken);
    }

    /// <inheritdoc/>
    public Task PublishAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return PublishCoreAsync(key, body, properties, null, cancellationToken);
    }

    /// <summary>
    /// Connects now rather than on the first publish, so that an unreachable broker is reported at start.
    /// Registered with <c>AddJobPublisher</c>, this runs when the host starts.
    /// </summary>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>A task that completes when the connection and its channel are open.</returns>
    /// <exception cref="JobPublishException">The broker cannot be reached.</exception>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            await _channel.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new JobPublishException($"Could not connect to RabbitMQ at {_source.Broker}: {ConnectFailure.Reason(ex, _source)}.", ex);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _channel.DisposeAsync().ConfigureAwait(false);
    }

    private async Task PublishCoreAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties, string? contentType, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var exchange = _options.PartitionedQueue is { } partitioned ? RabbitMqNames.PartitionExchange(partitioned) : _options.Exchange;
        var routingKey = _options.PartitionedQueue is not null
            ? string.Empty // the exchange hashes the key header
            : properties?.RoutingKey ?? _options.RoutingKey
                ?? throw new InvalidOperationException($"No routing key: set {nameof(RabbitMqPublisherOptions)}.{nameof(RabbitMqPublisherOptions.RoutingKey)} or {nameof(JobPublishProperties)}.{nameof(JobPublishProperties.RoutingKey)}.");
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (properties is not null)
        {
            foreach (var (name, value) in properties.Headers)
            {
                headers[name] = value;
            }
        }

        headers[JobDedupHeaders.Key] = key;
        var messageId = properties?.MessageId ?? key;
        using var span = MessagingSpans.StartPublish(exchange, routingKey, messageId, key, properties?.CorrelationId, body.Length, headers);
        var basic = new BasicProperties
        {
            MessageId = messageId,
            CorrelationId = properties?.CorrelationId,
            ReplyTo = properties?.ReplyTo,
            ContentType = properties?.ContentType ?? contentType,
            Persistent = true,
            Headers = headers,
        };

        try
        {
            await _channel.PublishAsync(exchange, routingKey, mandatory: true, basic, body, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PublishException or AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            Log.PublishFailed(_logger, _options.ConnectionName ?? "publisher", key, ex);
            var why = ex is PublishException { IsReturn: true }
                ? $"the broker could not route it to a queue (exchange '{exchange}', routing key '{routingKey}')"
                : ex.Message;
            throw new JobPublishException($"The message with key '{key}' was not published: {why}.", ex);
        }
    }
}
