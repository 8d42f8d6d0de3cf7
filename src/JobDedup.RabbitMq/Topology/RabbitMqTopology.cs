using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.RabbitMq.Topology;

/// <summary>
/// Declares what a consumer needs: the work queue, one retry queue per delay (each dead-lettering back to the work
/// queue when a message's time-to-live ends), and the dead-letter exchange and queue.
/// </summary>
internal static class RabbitMqTopology
{
    public static async Task DeclareAsync<TJob, TResult>(IConnection connection, RabbitMqConsumerOptions<TJob, TResult> options, CancellationToken cancellationToken)
    {
        var type = new Dictionary<string, object?> { ["x-queue-type"] = options.QueueType };
        await DeclareQueueAsync(connection, options.Queue, type, $"{nameof(options.Queue)} or {nameof(options.QueueType)}", cancellationToken).ConfigureAwait(false);

        for (var level = 0; level < options.RetryDelays.Length; level++)
        {
            var arguments = new Dictionary<string, object?>
            {
                ["x-queue-type"] = options.QueueType,
                ["x-dead-letter-exchange"] = string.Empty,
                ["x-dead-letter-routing-key"] = options.Queue,
            };
            await DeclareQueueAsync(connection, options.RetryQueueName(level), arguments, $"{nameof(options.RetryQueuePrefix)} or {nameof(options.QueueType)}", cancellationToken).ConfigureAwait(false);
        }

        await RunAsync(
            connection,
            $"exchange '{options.DeadLetterExchangeName}'",
            nameof(options.DeadLetterExchange),
            channel => channel.ExchangeDeclareAsync(options.DeadLetterExchangeName, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken),
            cancellationToken).ConfigureAwait(false);
        await DeclareQueueAsync(connection, options.DeadLetterQueueName, type, $"{nameof(options.DeadLetterQueue)} or {nameof(options.QueueType)}", cancellationToken).ConfigureAwait(false);
        await RunAsync(
            connection,
            $"binding of '{options.DeadLetterQueueName}' to '{options.DeadLetterExchangeName}'",
            nameof(options.DeadLetterQueue),
            channel => channel.QueueBindAsync(options.DeadLetterQueueName, options.DeadLetterExchangeName, options.Queue, cancellationToken: cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private static Task DeclareQueueAsync(IConnection connection, string queue, Dictionary<string, object?> arguments, string options, CancellationToken cancellationToken) =>
        RunAsync(
            connection,
            $"queue '{queue}'",
            options,
            async channel => await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken).ConfigureAwait(false),
            cancellationToken);

    /// <summary>Runs one declaration on its own channel: a refused declaration closes the channel it ran on.</summary>
    private static async Task RunAsync(IConnection connection, string what, string options, Func<IChannel, Task> declare, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            try
            {
                await declare(channel).ConfigureAwait(false);
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
            {
                throw new InvalidOperationException(
                    $"The broker already has {what} with other settings ({ex.ShutdownReason.ReplyText}). " +
                    $"Change the consumer option {options} to match it, or delete it on the broker.",
                    ex);
            }
        }
    }
}
