using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace JobDedup.RabbitMq.Topology;

/// <summary>
/// Declares what a consumer needs: the work queue (or, partitioned, a consistent-hash exchange over partition queues
/// with a single active consumer each), one retry queue per delay (each dead-lettering back to where work arrives when
/// a message's time-to-live ends), and the dead-letter exchange and queue.
/// </summary>
internal static class RabbitMqTopology
{
    public static async Task DeclareAsync<TJob, TResult>(IConnection connection, RabbitMqConsumerOptions<TJob, TResult> options, CancellationToken cancellationToken)
    {
        var type = new Dictionary<string, object?> { ["x-queue-type"] = options.QueueType };
        if (options.Partitions > 0)
        {
            await DeclarePartitionsAsync(connection, options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await DeclareQueueAsync(connection, options.Queue, type, $"{nameof(options.Queue)} or {nameof(options.QueueType)}", cancellationToken).ConfigureAwait(false);
        }

        for (var level = 0; level < options.RetryDelays.Length; level++)
        {
            // Back to where work arrives: the work queue through the default exchange, or the partition exchange,
            // which hashes the key header again.
            var arguments = new Dictionary<string, object?>
            {
                ["x-queue-type"] = options.QueueType,
                ["x-dead-letter-exchange"] = options.Partitions > 0 ? options.PartitionExchangeName : string.Empty,
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

    private static async Task DeclarePartitionsAsync<TJob, TResult>(IConnection connection, RabbitMqConsumerOptions<TJob, TResult> options, CancellationToken cancellationToken)
    {
        var exchange = options.PartitionExchangeName;
        var hashByKey = new Dictionary<string, object?> { ["hash-header"] = JobDedupHeaders.Key };
        await RunAsync(
            connection,
            $"exchange '{exchange}' (type x-consistent-hash, from the broker plugin rabbitmq_consistent_hash_exchange)",
            nameof(options.Partitions),
            channel => channel.ExchangeDeclareAsync(exchange, "x-consistent-hash", durable: true, autoDelete: false, hashByKey, cancellationToken: cancellationToken),
            cancellationToken).ConfigureAwait(false);
        var partition = new Dictionary<string, object?>
        {
            ["x-queue-type"] = options.QueueType,
            ["x-single-active-consumer"] = true,
        };
        for (var i = 0; i < options.Partitions; i++)
        {
            var queue = options.PartitionQueueName(i);
            await DeclareQueueAsync(connection, queue, partition, $"{nameof(options.Partitions)} or {nameof(options.QueueType)}", cancellationToken).ConfigureAwait(false);

            // Equal weights: the routing key of a consistent-hash binding is the partition's share of the hash ring.
            await RunAsync(
                connection,
                $"binding of '{queue}' to '{exchange}'",
                nameof(options.Partitions),
                channel => channel.QueueBindAsync(queue, exchange, "1", cancellationToken: cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }
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
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 503)
            {
                throw new InvalidOperationException(
                    $"The broker does not know {what} ({ex.ShutdownReason.ReplyText}). " +
                    $"Enable the broker plugin it needs (rabbitmq-plugins enable rabbitmq_consistent_hash_exchange), or change the consumer option {options}.",
                    ex);
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
