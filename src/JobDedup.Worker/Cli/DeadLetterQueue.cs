using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.Worker.Cli;

/// <summary>
/// The broker side of the dead-letter commands. Messages are read with basic.get and no automatic ack, so each one
/// stays the broker's until the tool acks it (after a confirmed replay) or gives it back: <see cref="ReturnAllAsync"/>
/// nacks every held message with requeue, and a tool that dies mid-way loses its connection, which returns them too.
/// Reading therefore never removes a message.
/// </summary>
internal sealed class DeadLetterQueue : IAsyncDisposable
{
    private readonly ToolSettings _settings;
    private readonly IConnection _connection;
    private readonly IChannel _reader;
    private readonly IChannel _publisher;
    private ulong _lastTag;

    private DeadLetterQueue(ToolSettings settings, IConnection connection, IChannel reader, IChannel publisher)
    {
        _settings = settings;
        _connection = connection;
        _reader = reader;
        _publisher = publisher;
    }

    /// <summary>Gets the dead-letter queue's name.</summary>
    public string Name => _settings.DeadLetterQueue;

    /// <summary>Connects and checks that the dead-letter queue exists.</summary>
    /// <exception cref="ToolException">The broker cannot be reached, refuses the login, or has no such queue.</exception>
    public static async Task<DeadLetterQueue> OpenAsync(ToolSettings settings, CancellationToken cancellationToken)
    {
        IConnection connection;
        try
        {
            connection = await new ConnectionFactory
            {
                Uri = new Uri(settings.BrokerUri),
                ClientProvidedName = "jobdedup dead-letters",
                AutomaticRecoveryEnabled = false,
            }.CreateConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or UriFormatException or ArgumentException)
        {
            var reason = ex is BrokerUnreachableException { InnerException: AuthenticationFailureException auth } ? auth.Message : ex.Message;
            throw new ToolException($"Cannot connect to the broker ({reason}). Set JobDedup:RabbitMq:Uri or pass --broker amqp://user:password@host:5672/.", ex);
        }

        try
        {
            var reader = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                await reader.QueueDeclarePassiveAsync(settings.DeadLetterQueue, cancellationToken);
            }
            catch (OperationInterruptedException ex)
            {
                throw new ToolException($"The broker has no queue '{settings.DeadLetterQueue}': is '{settings.Queue}' the work queue of a JobDedup consumer that has started once?", ex);
            }

            var publisher = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
            return new DeadLetterQueue(settings, connection, reader, publisher);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Counts the messages ready in the queue.</summary>
    public async Task<uint> CountAsync(CancellationToken cancellationToken) =>
        (await _reader.QueueDeclarePassiveAsync(Name, cancellationToken)).MessageCount;

    /// <summary>Reads up to <paramref name="limit"/> messages from the head of the queue and holds them.</summary>
    public async Task<IReadOnlyList<DeadLetter>> TakeAsync(int limit, CancellationToken cancellationToken)
    {
        var taken = new List<DeadLetter>();
        while (taken.Count < limit && await _reader.BasicGetAsync(Name, autoAck: false, cancellationToken) is { } result)
        {
            _lastTag = result.DeliveryTag;
            taken.Add(new DeadLetter(taken.Count + 1, result.DeliveryTag, result.BasicProperties, result.Body.ToArray(), _settings.KeyRule));
        }

        return taken;
    }

    /// <summary>
    /// Publishes the replay copy of <paramref name="deadLetter"/> and waits for the broker's confirm; only then is the
    /// dead letter removed. A copy the broker refuses or cannot route leaves the dead letter where it was.
    /// </summary>
    /// <exception cref="ToolException">The copy was not confirmed.</exception>
    public async Task ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        var copy = ReplayCopy.For(deadLetter, _settings);
        try
        {
            await _publisher.BasicPublishAsync(copy.Exchange, copy.RoutingKey, mandatory: true, copy.Properties, deadLetter.Body, cancellationToken);
        }
        catch (PublishException ex)
        {
            throw new ToolException(
                ex.IsReturn
                    ? $"The broker could not route message {deadLetter.Index} to '{(copy.Exchange.Length > 0 ? copy.Exchange : copy.RoutingKey)}' (does the work queue exist?); it stays in '{Name}'."
                    : $"The broker did not confirm the copy of message {deadLetter.Index}; it stays in '{Name}'.",
                ex);
        }

        await _reader.BasicAckAsync(deadLetter.DeliveryTag, multiple: false, cancellationToken);
    }

    /// <summary>Gives every held message back to the queue, in its place.</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        if (_lastTag > 0 && _reader.IsOpen)
        {
            await _reader.BasicNackAsync(_lastTag, multiple: true, requeue: true, cancellationToken);
            _lastTag = 0;
        }
    }

    /// <summary>Deletes every ready message in the queue and returns how many there were.</summary>
    public async Task<uint> PurgeAsync(CancellationToken cancellationToken) => await _reader.QueuePurgeAsync(Name, cancellationToken);

    /// <summary>Closes the connection; any message still held goes back to the queue.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReturnAllAsync(CancellationToken.None);
        }
        finally
        {
            await _publisher.DisposeAsync();
            await _reader.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
