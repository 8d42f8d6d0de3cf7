using JobDedup.RabbitMqBench.Measuring;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace JobDedup.RabbitMqBench.Consumers;

/// <summary>
/// A plain RabbitMQ.Client 7 consumer that acks and does nothing else. With <paramref name="ackEvery"/> 1 it acks each
/// delivery as it arrives: the ceiling for a consumer that settles messages one by one. With more, it acks every
/// <paramref name="ackEvery"/>-th delivery with <c>multiple: true</c> (and the last one), which shows what batched acks
/// save the broker.
/// </summary>
internal sealed class RawConsumer(string uri, int ackEvery = 1) : IBenchConsumer
{
    public string Name => ackEvery == 1 ? "raw RabbitMQ.Client (ack only)" : $"raw RabbitMQ.Client, 1 ack per {ackEvery}";

    public IDictionary<string, object?>? QueueArguments => null;

    public int AckEvery => ackEvery;

    public async Task RunAsync(string queue, int prefetch, RunCounters counters, CancellationToken deadline)
    {
        if (ackEvery > prefetch)
        {
            throw new ArgumentException($"Acking every {ackEvery} deliveries needs a prefetch of at least that, not {prefetch}.");
        }

        var factory = new ConnectionFactory { Uri = new Uri(uri), ClientProvidedName = "jobdedup-bench:raw", AutomaticRecoveryEnabled = false };
        await using var connection = await factory.CreateConnectionAsync(deadline);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: deadline);
        await channel.BasicQosAsync(0, (ushort)prefetch, global: false, deadline);
        var consumer = new AsyncEventingBasicConsumer(channel);

        // The client calls the handler for one delivery at a time (ConsumerDispatchConcurrency 1), so no lock is needed.
        var unacked = 0;
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            counters.OnHandled();
            if (++unacked < ackEvery && counters.Handled < counters.ExpectedAcks)
            {
                return;
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: ackEvery > 1);
            for (; unacked > 0; unacked--)
            {
                counters.OnAcked();
            }
        };

        var tag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer, deadline);
        try
        {
            await counters.Done.WaitAsync(deadline);
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await channel.BasicCancelAsync(tag, noWait: false, stopping.Token);
            await channel.CloseAsync(stopping.Token);
            await connection.CloseAsync(TimeSpan.FromSeconds(5));
        }
    }
}
