using System.Text.Json;
using JobDedup.RabbitMq.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;
    private bool _disposed;

    /// <summary>Initializes a new instance of the <see cref="RabbitMqJobPublisher"/> class.</summary>
    /// <param name="options">Where and how to publish.</param>
    /// <param name="logger">Where failures are logged.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public RabbitMqJobPublisher(RabbitMqPublisherOptions options, ILogger<RabbitMqJobPublisher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid RabbitMQ publisher options: {string.Join(" ", errors)}", nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    public Task PublishAsync<TJob>(string key, TJob job, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var body = JsonSerializer.SerializeToUtf8Bytes(job, _options.JsonOptions);
        return PublishCoreAsync(key, body, properties, "application/json", cancellationToken);
    }

    /// <inheritdoc/>
    public Task PublishAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return PublishCoreAsync(key, body, properties, null, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _connectLock.Dispose();
    }

    private async Task PublishCoreAsync(string key, ReadOnlyMemory<byte> body, JobPublishProperties? properties, string? contentType, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var routingKey = properties?.RoutingKey ?? _options.RoutingKey
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
        var basic = new BasicProperties
        {
            MessageId = properties?.MessageId ?? key,
            CorrelationId = properties?.CorrelationId,
            ReplyTo = properties?.ReplyTo,
            ContentType = properties?.ContentType ?? contentType,
            Persistent = true,
            Headers = headers,
        };

        var channel = await GetChannelAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await channel.BasicPublishAsync(_options.Exchange, routingKey, mandatory: true, basic, body, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PublishException or AlreadyClosedException or OperationInterruptedException)
        {
            Log.PublishFailed(_logger, _options.ConnectionName ?? "publisher", key, ex);
            var why = ex is PublishException { IsReturn: true }
                ? $"the broker could not route it to a queue (exchange '{_options.Exchange}', routing key '{routingKey}')"
                : ex.Message;
            throw new JobPublishException($"The message with key '{key}' was not published: {why}.", ex);
        }
    }

    private async ValueTask<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { } ready)
        {
            return ready;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_channel is null)
            {
                _connection = await _options.CreateConnectionFactory("publisher").CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
                _channel = await _connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                    cancellationToken).ConfigureAwait(false);
            }

            return _channel;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not JobPublishException)
        {
            throw new JobPublishException($"Could not connect to RabbitMQ at {_options.RedactedUri}: {ex.Message}", ex);
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
