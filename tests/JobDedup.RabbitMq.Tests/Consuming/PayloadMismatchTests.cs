using System.Collections.Concurrent;
using System.Text;
using static JobDedup.RabbitMq.Tests.Support.HeaderValues;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>
/// Messages that reuse a key for a different body, when the deduplicator compares payload fingerprints: dead-lettered
/// at once as <c>payload-mismatch</c>, never run and never requeued; the same body is deduplicated as always.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class PayloadMismatchTests(Broker broker)
{
    [Fact]
    public async Task Consumer_SameKeyDifferentBodies_OneIsHandledAndTheOthersAreDeadLetteredAsPayloadMismatch()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "payload-mismatch");
        using var settled = new Settlements(queue.Name);
        var gate = new Gate();
        var handled = new ConcurrentQueue<string>();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, _, ct) =>
            {
                handled.Enqueue(Encoding.UTF8.GetString(message.Body.Span));
                await gate.WaitAsync(ct);
                return "charged";
            },
            dedup: o =>
            {
                o.Fingerprint = message => JobFingerprint.FromBytes(message.Body.Span);
                o.DedupeWindow = TimeSpan.FromHours(1);
            },
            consumer: o => o.MaxDeliveryAttempts = 3);

        // While the first is in flight: another body under its key.
        var replies = await queue.DeclareReplyQueueAsync();
        await queue.PublishAsync("evt_1", """{"amount":10}""");
        await gate.Reached.Within();
        await queue.PublishAsync("evt_1", """{"amount":20}""", replyTo: replies, correlationId: "other");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the second body is dead-lettered while the first runs");
        Assert.Equal(0, settled["ack"]);
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 1, "the first is acked");

        // After it completed (kept in the window): another body is refused, the same body is replayed.
        await queue.PublishAsync("evt_1", """{"amount":30}""");
        await Watchdog.Until(() => settled["dead-letter"] == 2, "a third body is dead-lettered against the kept outcome");
        await queue.PublishAsync("evt_1", """{"amount":10}""");
        await Watchdog.Until(() => settled["ack"] == 2, "the first body again is acked from the window");
        await host.StopAsync();

        Assert.Equal(["""{"amount":10}"""], handled);
        Assert.Equal(0, settled["retry"]);
        Assert.Equal(0, settled["requeue"]);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync($"{queue.Name}.retry.1"));
        var reply = Assert.Single(await queue.DrainAsync(replies));
        Assert.Equal("other", reply.BasicProperties.CorrelationId);
        Assert.Equal(nameof(JobStatus.Conflict), Text(reply.BasicProperties.Headers![JobDedupHeaders.Status]));
        Assert.Contains(DeadLetterReasons.PayloadMismatch, Encoding.UTF8.GetString(reply.Body.Span), StringComparison.Ordinal);
        var letters = await queue.DrainAsync(queue.DeadLetterQueue);
        Assert.Equal(["""{"amount":20}""", """{"amount":30}"""], letters.Select(l => Encoding.UTF8.GetString(l.Body.Span)));
        Assert.All(letters, letter =>
        {
            var headers = letter.BasicProperties.Headers!;
            Assert.Equal(DeadLetterReasons.PayloadMismatch, Text(headers[JobDedupHeaders.Reason]));
            Assert.Equal(typeof(PayloadMismatchException).FullName, Text(headers[JobDedupHeaders.ExceptionType]));
            Assert.Equal("evt_1", Text(headers[JobDedupHeaders.Key]));
            Assert.Equal(1L, Convert.ToInt64(headers[JobDedupHeaders.Attempt], System.Globalization.CultureInfo.InvariantCulture));
        });
    }

    [Fact]
    public async Task Consumer_SameKeySameBodies_AreDeduplicatedAsWithoutFingerprints()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "payload-match");
        using var settled = new Settlements(queue.Name);
        var gate = new Gate();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (_, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "charged";
            },
            dedup: o =>
            {
                o.Fingerprint = message => JobFingerprint.FromJson(message.Body.Span);
                o.DedupeWindow = TimeSpan.FromHours(1);
            });

        await queue.PublishAsync("evt_1", """{"amount":10,"currency":"EUR"}""");
        await gate.Reached.Within();
        await queue.PublishAsync("evt_1", """{"amount":10,"currency":"EUR"}""");
        await queue.PublishAsync("evt_1", """{"amount":10,"currency":"EUR"}""");
        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 2, "both copies joined the running flight");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 3, "all three are acked");
        await queue.PublishAsync("evt_1", """{"amount":10,"currency":"EUR"}""");
        await Watchdog.Until(() => settled["ack"] == 4, "a late copy is acked from the window");
        await host.StopAsync();

        Assert.Equal(1, runs);
        Assert.Equal(0, settled["dead-letter"]);
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_JsonFingerprintOfABodyThatIsNotJson_IsDeadLetteredAsPermanentFailureWithoutARun()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "fingerprint-not-json");
        using var settled = new Settlements(queue.Name);
        var runs = new CountingHandler();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            runs.Answering("charged"),
            dedup: o => o.Fingerprint = message => JobFingerprint.FromJson(message.Body.Span),
            consumer: o => o.MaxDeliveryAttempts = 3);

        await queue.PublishAsync("evt_1", "amount=10");
        await Watchdog.Until(() => settled["dead-letter"] == 1, "the body that is not JSON is dead-lettered");
        await queue.PublishAsync("evt_2", """{"amount":10}""");
        await Watchdog.Until(() => settled["ack"] == 1, "the next message is handled");
        await host.StopAsync();

        Assert.Equal(1, runs.Runs);
        Assert.Equal(0, settled["retry"]);
        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue));
        Assert.Equal(DeadLetterReasons.PermanentFailure, Text(letter.BasicProperties.Headers![JobDedupHeaders.Reason]));
        Assert.Equal("amount=10", Encoding.UTF8.GetString(letter.Body.Span));
    }
}
