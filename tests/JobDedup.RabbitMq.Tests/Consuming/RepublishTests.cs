using System.Text;
using JobDedup.RabbitMq.Tests.Support;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>Retries, parks and dead letters: the copies published before the original is acked.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RepublishTests(Broker broker)
{
    [Fact]
    public async Task Consumer_PublishChannelClosedByAChannelError_RecoversOnceTheDeadLetterExchangeIsBack()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "publish-channel");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) => ValueTask.FromResult("ok"));
        var exchange = $"{queue.Name}.dead-letter";

        // An operator deletes the dead-letter exchange: the next dead letter is published to a missing exchange, and the
        // broker closes the consumer's publish channel (404). Nothing ever opens it again.
        await admin.Channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        await queue.PublishAsync(key: null, "{\"no\":\"key\"}");
        await Watchdog.Until(() => settled["deferred"] >= 1, "the failed dead letter is held to be tried again");

        await admin.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false);
        await admin.Channel.QueueBindAsync(queue.DeadLetterQueue, exchange, queue.Name);

        var arrived = await Eventually.HoldsAsync(async () => await queue.CountAsync(queue.DeadLetterQueue) == 1);
        Assert.True(arrived, $"the dead letter never arrived after the exchange was restored; the delivery was requeued {settled["requeue"]} times (immediate redelivery each time)");
    }

    [Fact]
    public async Task Consumer_RetryPublishFails_DoesNotRunTheHandlerInAHotRequeueLoop()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "hot-loop");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Failing(() => new TimeoutException("gateway timeout")),
            consumer: o => o.MaxDeliveryAttempts = 3);

        // The retry queue is gone (deleted, or never declared with DeclareTopology = false): the retry is returned as
        // unroutable, and the delivery is nacked with requeue, so the broker hands it straight back.
        await admin.Channel.QueueDeleteAsync($"{queue.Name}.retry.1", ifUnused: false, ifEmpty: false);
        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => settled["deferred"] >= 1, "the failed retry is held to be tried again");

        var looping = await Eventually.HoldsAsync(() => runs.Runs > 20, TimeSpan.FromSeconds(5));
        Assert.False(looping, $"one message with MaxDeliveryAttempts = 3 ran the handler {runs.Runs} times ({settled["requeue"]} immediate requeues)");
    }

    [Fact]
    public async Task Consumer_RetriedThenDeadLetteredMessage_KeepsItsProperties()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "properties");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        await queue.DeclareAsync();
        var sent = new AmqpTimestamp(1_700_000_000);
        await admin.Channel.BasicPublishAsync(string.Empty, queue.Name, mandatory: true, new BasicProperties
        {
            MessageId = "m-1",
            AppId = "billing",
            ContentEncoding = "gzip",
            Priority = 7,
            Timestamp = sent,
            Persistent = true,
            Headers = new Dictionary<string, object?> { [JobDedupHeaders.Key] = "k-1", ["tenant"] = "acme" },
        }, Encoding.UTF8.GetBytes("{}"));
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) => throw new TimeoutException("gateway timeout"),
            consumer: o => o.MaxDeliveryAttempts = 2);

        await Watchdog.Until(() => settled["retry"] == 1 && settled["dead-letter"] == 1, "retried once, then dead-lettered");
        await host.StopAsync();

        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue)).BasicProperties;
        Assert.Equal("acme", Encoding.UTF8.GetString((byte[])letter.Headers!["tenant"]!));
        Assert.Equal("billing", letter.AppId);
        Assert.Equal("gzip", letter.ContentEncoding);
        Assert.Equal(7, letter.Priority);
        Assert.Equal(sent, letter.Timestamp);
    }
}
