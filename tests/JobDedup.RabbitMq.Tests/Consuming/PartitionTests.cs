using System.Collections.Concurrent;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>Two instances on a partitioned queue: each key reaches one live instance, and an instance may stop mid-burst.</summary>
[Collection(BrokerCollection.Name)]
public sealed class PartitionTests(Broker broker)
{
    private const int Partitions = 4;

    [Fact]
    public async Task TwoInstances_ThousandMessagesOverTwentyKeysWithTheHandlerHeld_TwentyRunsInAll()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "partitions");
        queue.UsesPartitions(Partitions);
        using var settled = new Settlements(queue.Name);
        var gate = new Gate();
        var runs = new ConcurrentDictionary<string, int>();
        Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> handler = async (_, context, ct) =>
        {
            runs.AddOrUpdate(context.Key, 1, (_, n) => n + 1);
            await gate.WaitAsync(ct);
            return "done";
        };
        await using var first = await StartAsync(queue, handler);
        await using var second = await StartAsync(queue, handler);
        await using var publisher = Publisher(queue);

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => publisher.PublishAsync($"key-{i % 20}", new { copy = i })));
        await Watchdog.Until(
            () => first.Deduplicator.GetStats().Hits + second.Deduplicator.GetStats().Hits == 980,
            "all 1,000 deliveries reached the 20 flights");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 1000, "1,000 acks");

        Assert.Equal(20, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        for (var i = 0; i < Partitions; i++)
        {
            Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.partition.{i}"));
        }
    }

    [Fact]
    public async Task TwoInstances_OneStopsMidBurst_NothingIsLost()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "partition-failover");
        queue.UsesPartitions(Partitions);
        using var settled = new Settlements(queue.Name);
        var handled = new ConcurrentDictionary<string, int>();
        Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> handler = async (_, context, ct) =>
        {
            await Task.Delay(5, ct);
            handled.AddOrUpdate(context.Key, 1, (_, n) => n + 1);
            return "done";
        };
        var first = await StartAsync(queue, handler);
        await using var second = await StartAsync(queue, handler);
        await using var publisher = Publisher(queue);

        var nacked = 0;
        var publishing = Task.WhenAll(Enumerable.Range(0, 1000).Select(i => PublishUntilConfirmedAsync(publisher, $"key-{i % 20}", new { copy = i }, () => Interlocked.Increment(ref nacked))));
        await Watchdog.Until(() => settled["ack"] >= 200, "the burst is under way");
        await first.DisposeAsync(); // stops mid-burst: its partitions move to the other instance
        await publishing.Within();

        await Watchdog.Until(
            async () => await AllEmptyAsync(queue) && second.Deduplicator.GetStats() is { Active: 0, Queued: 0 },
            "every partition queue drained by the remaining instance");
        await second.StopAsync();

        Assert.True(await AllEmptyAsync(queue));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.retry.1"));
        Assert.Equal(20, handled.Count);
        Assert.True(settled["ack"] >= 1000, $"every message acked at least once; {settled["ack"]} acks, {settled["requeue"]} returned to the queue ({nacked} publishes refused by the broker and sent again)");
    }

    /// <summary>
    /// Publishes until the broker confirms, as an application must: a refused publish (a nack) means the broker did
    /// not take the message. RabbitMQ 3.10 sometimes crashes and restarts a classic queue whose consumer is cancelled
    /// while a message is delivered to it (a badmatch in rabbit_amqqueue_process:attempt_delivery, in the broker's
    /// log), and refuses the publishes in flight to it meanwhile; what is under test is that the consumers lose none.
    /// </summary>
    private static async Task PublishUntilConfirmedAsync(RabbitMqJobPublisher publisher, string key, object message, Action refused)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await publisher.PublishAsync(key, message);
                return;
            }
            catch (JobPublishException) when (attempt < 5)
            {
                refused();
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
        }
    }

    private static Task<ConsumerHost> StartAsync(TestQueue queue, Func<RabbitMqMessage, JobContext, CancellationToken, ValueTask<string>> handler) =>
        ConsumerHost.StartAsync(
            queue,
            handler,
            dedup: o => o.DedupeWindow = TimeSpan.FromMinutes(5),
            consumer: o =>
            {
                o.Partitions = Partitions;
                o.Prefetch = 1000; // per partition queue: the hash may give one partition far more than a quarter of the keys
            },
            shutdownTimeout: TimeSpan.FromSeconds(5));

    private static RabbitMqJobPublisher Publisher(TestQueue queue) =>
        new(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, PartitionedQueue = queue.Name });

    private static async Task<bool> AllEmptyAsync(TestQueue queue)
    {
        for (var i = 0; i < Partitions; i++)
        {
            if (await queue.CountAsync($"{queue.Name}.partition.{i}") != 0)
            {
                return false;
            }
        }

        return true;
    }
}
