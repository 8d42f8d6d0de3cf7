using System.Text;
using JobDedup.RabbitMq.Tests.Support;

namespace JobDedup.RabbitMq.Tests.Consuming;

[Collection(BrokerCollection.Name)]
public sealed class ReplyTests(Broker broker)
{
    [Fact]
    public async Task Consumer_TwentyDuplicatesWithReplyTo_EachGetsExactlyOneReplyWithTheSharedValue()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply");
        using var settled = new Settlements(queue.Name);
        var replies = await queue.DeclareReplyQueueAsync();
        await queue.DeclareAsync();
        for (var i = 0; i < 20; i++)
        {
            await queue.PublishAsync("booking-42", "{}", replyTo: replies, correlationId: $"caller-{i}");
        }

        var gate = new Gate();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(queue, async (message, context, ct) =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "confirmation BK-42";
        });
        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 19, "all 20 deliveries joined one flight");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 20, "20 acks");
        await host.StopAsync();

        // Stopping waits for every settlement, reply included (each is acked, then answered), so nothing more can arrive now.
        var received = await queue.DrainAsync(replies);
        Assert.Equal(1, runs);
        Assert.Equal(20, received.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"caller-{i}").Order(), received.Select(r => r.BasicProperties.CorrelationId).Order());
        Assert.All(received, r => Assert.Equal("confirmation BK-42", Encoding.UTF8.GetString(r.Body.Span)));
        Assert.Equal(1, received.Count(r => Header(r, JobDedupHeaders.Role) == "Leader"));
        Assert.Equal(19, received.Count(r => Header(r, JobDedupHeaders.Role) == "Joined"));
        Assert.All(received, r => Assert.Equal("Succeeded", Header(r, JobDedupHeaders.Status)));
    }

    [Fact]
    public async Task Consumer_DeadLetteredWithReplyTo_TheCallerGetsAnErrorReply()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply-error");
        using var settled = new Settlements(queue.Name);
        var replies = await queue.DeclareReplyQueueAsync();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) => throw new InvalidOperationException("out of stock"),
            consumer: o => o.MaxDeliveryAttempts = 1);

        await queue.PublishAsync("order-1", "{}", replyTo: replies, correlationId: "c-1");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "dead-lettered");
        await host.StopAsync();

        var reply = Assert.Single(await queue.DrainAsync(replies));
        Assert.Equal("c-1", reply.BasicProperties.CorrelationId);
        Assert.Equal("Failed", Header(reply, JobDedupHeaders.Status));
        Assert.Equal("out of stock", Header(reply, JobDedupHeaders.ExceptionMessage));
        Assert.Contains("out of stock", Encoding.UTF8.GetString(reply.Body.Span));
    }

    [Fact]
    public async Task Consumer_ReplySerializerThrows_TheDeliveryIsStillSettled()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply-serializer");
        using var settled = new Settlements(queue.Name);
        var replies = await queue.DeclareReplyQueueAsync();
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Answering("ok"),
            consumer: o => o.ReplySerializer = _ => throw new InvalidOperationException("the reply cannot be serialized"),
            shutdownTimeout: TimeSpan.FromSeconds(2));
        var consumer = Consumers.Of(host);

        await queue.PublishAsync("k-1", "{}", replyTo: replies, correlationId: "c-1");
        await Watchdog.Until(() => runs.Runs == 1, "the handler ran");

        // The delivery was claimed for an ack, then the reply serializer threw inside a fire-and-forget task: no ack, no
        // nack, and it stays in Pending (holding a prefetch slot) until shutdown times out.
        var settledInTime = await Eventually.HoldsAsync(() => consumer.Pending == 0);
        Assert.True(settledInTime, $"the delivery was never settled: pending {consumer.Pending}, ack {settled["ack"]}, requeue {settled["requeue"]}, dead-letter {settled["dead-letter"]}");
    }

    [Fact]
    public async Task Consumer_ReplyToThatMakesTheBrokerDropTheConnection_IsNotRedeliveredForever()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply-crash");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(queue, runs.Answering("ok"));

        // A well-formed-looking direct reply-to name that RabbitMQ 3.10 cannot decode: publishing the reply closes the
        // whole connection (541 INTERNAL_ERROR). The reply goes out before the ack, so the ack is lost, the message comes
        // back after recovery, the handler runs again, and the reply kills the connection again.
        await queue.PublishAsync("k-1", "{}", replyTo: "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NTY3OAAAAQAAAAAAAAAA.abc");
        await Watchdog.Until(() => runs.Runs >= 1, "the handler ran");

        var acked = await Eventually.HoldsAsync(async () => settled["ack"] >= 1 && await queue.CountAsync(queue.Name) == 0 && Consumers.Of(host).Pending == 0);
        Assert.True(acked && runs.Runs == 1, $"acked: {acked}; the handler ran {runs.Runs} times for one message");
    }

    private static string? Header(RabbitMQ.Client.BasicGetResult message, string name) =>
        message.BasicProperties.Headers?.TryGetValue(name, out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
}
