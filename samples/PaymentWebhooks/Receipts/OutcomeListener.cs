using System.Text;
using System.Text.Json;
using JobDedup;
using JobDedup.RabbitMq;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Payments;
using PaymentWebhooks.Settings;
using PaymentWebhooks.Telemetry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace PaymentWebhooks.Receipts;

/// <summary>
/// Completes receipts from the outcome queue. The JobDedup consumer sends every delivery's outcome to the queue
/// named in its reply-to property, with the receipt id as correlation id: one reply per copy, whether that copy led
/// the handler run, joined it, or was answered from the dedupe window.
/// </summary>
internal sealed class OutcomeListener(PaymentWebhooksOptions options, ReceiptBook receipts, ILogger<OutcomeListener> logger)
    : IHostedService, IAsyncDisposable
{
    private const ushort Prefetch = 100;

    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Declares the outcome queue and starts consuming it, before the endpoint takes its first webhook.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once consuming.</returns>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = new Uri(options.RabbitMqUri),
            ClientProvidedName = $"jobdedup:{PaymentWebhooksApp.DeduplicatorName}:outcomes",
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
        };
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);

        // Not durable: receipts live in memory, so outcomes have no use after a broker or process restart.
        await _channel.QueueDeclareAsync(options.OutcomeQueueName, durable: false, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await _channel.BasicQosAsync(0, Prefetch, global: false, cancellationToken);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += OnOutcomeAsync;
        await _channel.BasicConsumeAsync(options.OutcomeQueueName, autoAck: false, consumer, cancellationToken);
        Log.ListeningForOutcomes(logger, options.OutcomeQueueName);
    }

    /// <summary>Closes the channel and the connection; outcomes not yet taken stay in the queue.</summary>
    /// <param name="cancellationToken">Not used: closing is bounded by the client's own timeout.</param>
    /// <returns>A task that completes once closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken) => await CloseAsync();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task OnOutcomeAsync(object sender, BasicDeliverEventArgs args)
    {
        try
        {
            Record(args.BasicProperties, args.Body.Span);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // An outcome that cannot be read will not become readable: log it and let it go.
            Log.OutcomeUnreadable(logger, args.BasicProperties.CorrelationId, ex);
        }

        try
        {
            await ((AsyncEventingBasicConsumer)sender).Channel.BasicAckAsync(args.DeliveryTag, multiple: false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The channel is gone: the broker delivers the outcome again, and a completed receipt ignores it.
            Log.OutcomeAckFailed(logger, ex);
        }
    }

    private void Record(IReadOnlyBasicProperties properties, ReadOnlySpan<byte> body)
    {
        if (properties.CorrelationId is not { Length: > 0 } id)
        {
            Log.OutcomeWithoutReceipt(logger);
            return;
        }

        var status = Header(properties, JobDedupHeaders.Status);
        JobRole? role = Enum.TryParse<JobRole>(Header(properties, JobDedupHeaders.Role), out var parsed) ? parsed : null;
        var completed = status == nameof(JobStatus.Succeeded)
            ? receipts.Complete(
                id,
                ReceiptStatus.Succeeded,
                role,
                JsonSerializer.Deserialize<Charge>(body, PaymentEvent.Json) ?? throw new FormatException("The outcome holds no charge."),
                error: null)
            : receipts.Complete(id, ReceiptStatus.Failed, role, charge: null, Header(properties, JobDedupHeaders.ExceptionMessage) ?? "The event could not be recorded.");
        if (!completed)
        {
            Log.OutcomeForUnknownReceipt(logger, id);
        }
    }

    private static string? Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string text => text,
                _ => null,
            }
            : null;

    private async Task CloseAsync()
    {
        if (_channel is { } channel)
        {
            _channel = null;
            try
            {
                await channel.CloseAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CloseFailed(logger, ex);
            }

            await channel.DisposeAsync();
        }

        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                await connection.CloseAsync();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CloseFailed(logger, ex);
            }

            await connection.DisposeAsync();
        }
    }
}
