using System.Text;
using RabbitMQ.Client;

namespace JobDedup.Testing;

/// <summary>A uniquely named work queue (and its retry, dead-letter and reply queues) for one test, deleted afterwards.</summary>
public sealed class TestQueue : IAsyncDisposable
{
    private readonly List<string> _queues = [];
    private readonly List<string> _exchanges = [];
    private IConnection _connection;
    private IChannel _channel;

    private TestQueue(IConnection connection, IChannel channel, string name)
    {
        _connection = connection;
        _channel = channel;
        Name = name;
        _queues.AddRange([name, $"{name}.retry.1", $"{name}.retry.2", $"{name}.retry.3", $"{name}.dead"]);
        _exchanges.Add($"{name}.dead-letter");
    }

    public string Name { get; }

    public string DeadLetterQueue => $"{Name}.dead";

    /// <summary>Creates the queue's names and its own connection (a test may have the broker close every connection).</summary>
    public static async Task<TestQueue> CreateAsync(Broker broker, string test)
    {
        ArgumentNullException.ThrowIfNull(broker);
        var (connection, channel) = await ConnectAsync();
        var queue = new TestQueue(connection, channel, $"jobdedup-test.{test}.{Guid.NewGuid():N}"[..Math.Min(60, 24 + test.Length)]);
        await queue.DeleteAllAsync();
        return queue;
    }

    /// <summary>Opens a fresh connection after the broker closed the old one.</summary>
    public async Task ReconnectAsync()
    {
        if (_channel.IsOpen)
        {
            return;
        }

        _connection.Dispose();
        (_connection, _channel) = await ConnectAsync();
    }

    private static async Task<(IConnection, IChannel)> ConnectAsync()
    {
        var connection = await new ConnectionFactory
        {
            Uri = new Uri(Broker.Uri),
            ClientProvidedName = "jobdedup-tests",
            AutomaticRecoveryEnabled = false,
        }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return (connection, channel);
    }

    /// <summary>Also deletes, at the end, the partition queues and exchange of a partitioned consumer on this queue.</summary>
    public void UsesPartitions(int partitions)
    {
        for (var i = 0; i < partitions; i++)
        {
            _queues.Add($"{Name}.partition.{i}");
        }

        _exchanges.Add($"{Name}.partitions");
    }

    /// <summary>Declares the work queue the way the consumer will, so messages can be published before it starts.</summary>
    public async Task DeclareAsync(string type = "classic") =>
        await _channel.QueueDeclareAsync(Name, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = type });

    public async Task<string> DeclareReplyQueueAsync()
    {
        var reply = await _channel.QueueDeclareAsync($"{Name}.replies", durable: false, exclusive: false, autoDelete: false);
        _queues.Add(reply.QueueName);
        return reply.QueueName;
    }

    public Task PublishAsync(string? key, string body, string? messageId = null, string? replyTo = null, string? correlationId = null) =>
        PublishAsync(key, Encoding.UTF8.GetBytes(body), messageId, replyTo, correlationId);

    public async Task PublishAsync(string? key, byte[] body, string? messageId = null, string? replyTo = null, string? correlationId = null) =>
        await PublishToAsync(Name, key, body, messageId, replyTo, correlationId);

    /// <summary>Publishes straight into <paramref name="queue"/> (one partition queue, say), through the default exchange.</summary>
    public async Task PublishToAsync(string queue, string? key, byte[] body, string? messageId = null, string? replyTo = null, string? correlationId = null)
    {
        var headers = new Dictionary<string, object?>();
        if (key is not null)
        {
            headers[JobDedupHeaders.Key] = key;
        }

        var properties = new BasicProperties
        {
            MessageId = messageId,
            ReplyTo = replyTo,
            CorrelationId = correlationId,
            Persistent = true,
            Headers = headers,
        };
        await _channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);
    }

    /// <summary>Messages ready in a queue (not counting those delivered and not yet acked).</summary>
    public async Task<uint> CountAsync(string queue)
    {
        await ReconnectAsync();
        return (await _channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Takes every ready message off a queue.</summary>
    public async Task<List<BasicGetResult>> DrainAsync(string queue)
    {
        await ReconnectAsync();
        var messages = new List<BasicGetResult>();
        while (await _channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        await ReconnectAsync();
        await DeleteAllAsync();
        await _channel.CloseAsync();
        _channel.Dispose();
        await _connection.CloseAsync();
        _connection.Dispose();
    }

    private async Task DeleteAllAsync()
    {
        foreach (var queue in _queues)
        {
            await _channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        }

        foreach (var exchange in _exchanges)
        {
            await _channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        }
    }
}
