using JobDedup.Faults.Tests.Servers;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.Faults.Tests.Traffic;

/// <summary>
/// The test's own client of the suite's broker node: publishes with confirms, declares the reply queue, and takes
/// messages off the reply and dead-letter queues. A connection the fault closed is opened again on the next call.
/// </summary>
internal sealed class FaultBroker : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    public async ValueTask DisposeAsync()
    {
        await Drop();
        _lock.Dispose();
    }

    /// <summary>Declares a durable quorum queue (its messages survive a restart of the broker app, whatever their delivery mode).</summary>
    public async Task DeclareQuorumQueueAsync(string name)
    {
        var channel = await ChannelAsync();
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
    }

    /// <summary>Publishes persistent, mandatory messages and waits for every confirm; throws if one is refused or unroutable.</summary>
    public async Task PublishAsync(string exchange, string routingKey, string replyTo, IEnumerable<FaultMessage> messages)
    {
        var channel = await ChannelAsync();
        foreach (var batch in messages.Chunk(100))
        {
            await Task.WhenAll(batch.Select(async m =>
            {
                var properties = new BasicProperties
                {
                    Persistent = true,
                    CorrelationId = m.Id,
                    MessageId = m.MessageId ?? m.Id,
                    ReplyTo = replyTo,
                    ContentType = "application/json",
                    Headers = m.Headers is null ? null : new Dictionary<string, object?>(m.Headers),
                };
                await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, m.Body);
            }));
        }
    }

    /// <summary>Takes every message now in the queue (acking each after it is recorded); on a connection fault returns what it has.</summary>
    public async Task<List<BasicGetResult>> TakeAllAsync(string queue)
    {
        var taken = new List<BasicGetResult>();
        try
        {
            var channel = await ChannelAsync();
            while (await channel.BasicGetAsync(queue, autoAck: false) is { } message)
            {
                taken.Add(message);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false);
            }
        }
        catch (Exception ex) when (IsFault(ex))
        {
            // A message taken but not acked comes back: the ledger counts each correlation id once.
            await Drop();
        }

        return taken;
    }

    private static bool IsFault(Exception ex) =>
        ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException or IOException or ConnectFailureException;

    private async Task<IChannel> ChannelAsync()
    {
        await _lock.WaitAsync();
        try
        {
            if (_channel is { IsOpen: true } open)
            {
                return open;
            }

            await DropUnlocked();
            _connection = await new ConnectionFactory
            {
                Uri = new Uri(PrivateRabbitMq.Uri),
                ClientProvidedName = "jobdedup-fault-suite",
                AutomaticRecoveryEnabled = false,
            }.CreateConnectionAsync();
            _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            return _channel;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task Drop()
    {
        await _lock.WaitAsync();
        try
        {
            await DropUnlocked();
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task DropUnlocked()
    {
        try
        {
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            _connection?.Dispose();
        }
        catch (Exception ex) when (IsFault(ex))
        {
        }

        _channel = null;
        _connection = null;
    }
}
