using System.Net;
using JobDedup;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Receipts;
using PaymentWebhooks.Tests.Support;

namespace PaymentWebhooks.Tests;

[Collection(BrokerCollection.Name)]
public sealed class WebhookFlowTests(Broker broker)
{
    private const int Events = 5;
    private const int ConcurrentCopies = 40;
    private const int LateCopies = 10;

    [Fact]
    public async Task Webhooks_FiftyCopiesOfFiveEvents_ChargeEachOnceAndAnswerEveryCopyAlike()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "payments");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var gate = new Gate();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock, publishGate: gate);
        var events = Enumerable.Range(0, Events)
            .Select(i => (Id: EventBodies.NewId($"p{i}"), Amount: 1_000L + i))
            .Select(e => (e.Id, e.Amount, Body: EventBodies.Body(e.Id, e.Amount, $"order-{e.Amount}")))
            .ToArray();

        // 40 copies of each event at once, with forgeries mixed in, while the first copy of each is held at its publish.
        var copies = events.SelectMany(e => Enumerable.Range(0, ConcurrentCopies).Select(_ => app.SendSignedAsync(e.Id, e.Body)));
        var forged = events.SelectMany(e => Forgeries(e.Id, e.Body, clock.GetUtcNow()))
            .Select(f => app.PostAsync(f.EventId, f.Body, f.Signature, f.What));
        var sending = Task.WhenAll(copies.Concat(forged).ToArray());
        try
        {
            await Watchdog.Until(
                () => gate.Arrivals == Events && app.Idempotency.GetStats() is { Misses: Events, Hits: Events * (ConcurrentCopies - 1) },
                "every concurrent copy waited for its event's first copy");
            Assert.Equal(Events, app.Publisher.Publishes);
            Assert.Equal(0, ledger.Writes);
        }
        finally
        {
            // Also when an assertion fails, so that the held requests end and the app can stop.
            gate.Open();
        }

        var first = await sending.Within();
        await Watchdog.Until(() => app.Receipts.Pending == 0, "every event's outcome came back");

        // Hours later, still inside the 24-hour window: the provider sends 10 more copies of each event.
        clock.Advance(TimeSpan.FromHours(23));
        var late = await Task.WhenAll(events.SelectMany(e => Enumerable.Range(0, LateCopies).Select(_ => app.SendSignedAsync(e.Id, e.Body, "late copy")))).Within();

        var accepted = first.Where(s => s.What == "signed copy").Concat(late).ToArray();
        var rejected = first.Where(s => s.What != "signed copy").ToArray();
        Assert.Equal(Events * (ConcurrentCopies + LateCopies), accepted.Length);
        Assert.All(accepted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
        Assert.All(rejected, s => Assert.True(s.Status == HttpStatusCode.Unauthorized && s.Location is null && !s.Replayed, $"{s.What}: {s.Status}"));

        // Every copy of an event got the same answer: one receipt, read over HTTP, carrying the event's one ledger entry.
        var entries = await app.ReadLedgerAsync();
        Assert.Equal(Events, entries.Count);
        Assert.Equal(events.Select(e => e.Id).Order(), entries.Select(c => c.EventId).Order());
        foreach (var (id, amount, _) in events)
        {
            var entry = Assert.Single(entries, c => c.EventId == id);
            Assert.Equal(amount, entry.Amount);
            var mine = accepted.Where(s => s.EventId == id).ToArray();
            Assert.Equal(ConcurrentCopies + LateCopies, mine.Length);
            var location = Assert.Single(mine.Select(s => s.Location).Distinct());
            var receipt = await app.ReadReceiptAsync(location!);
            Assert.Equal(ReceiptStatus.Succeeded, receipt.Status);
            Assert.Equal(id, receipt.EventId);
            Assert.Equal(JobRole.Leader, receipt.Role);
            Assert.Equal(entry, receipt.Charge);

            // One copy ran the endpoint; the 39 that waited for it and the 10 late ones were answered with its response.
            Assert.Single(mine, s => !s.Replayed);
            Assert.Equal(ConcurrentCopies - 1, mine.Count(s => s.Replayed && s.What == "signed copy"));
            Assert.All(mine.Where(s => s.What == "late copy"), s => Assert.True(s.Replayed, "a late copy ran the endpoint again"));
        }

        // Exactly one publish, one handler run and one ledger write per event; every other copy was answered at the door.
        Assert.Equal(Events, app.Publisher.Publishes);
        Assert.Equal(Events, ledger.Writes);
        Assert.Equal(Events, app.Receipts.Count);
        Assert.Equal(Events * (ConcurrentCopies + LateCopies - 1), app.Idempotency.GetStats().Hits);
        Assert.Equal(Events, app.Idempotency.GetStats().Misses);
        Assert.Equal(Events, app.Deduplicator.GetStats().Misses);

        // Nothing lost: every published event was acked, and after the consumer has settled all it held, no queue keeps one.
        await Watchdog.Until(() => settled["ack"] == Events, "every published event acked");
        await app.StopAsync();
        Assert.Equal(Events, settled["ack"]);
        Assert.Equal(0, settled["dead-letter"] + settled["retry"] + settled["park"] + settled["requeue"]);
        foreach (var name in new[] { queue.Name, queue.DeadLetterQueue, $"{queue.Name}.retry.1", $"{queue.Name}.retry.2", $"{queue.Name}.retry.3", outcomes })
        {
            Assert.True(await queue.CountAsync(name) == 0, $"{name} still holds messages");
        }
    }

    [Fact]
    public async Task Webhook_CopyAfterTheDedupeWindow_RunsAgainButTheLedgerKeepsOneCharge()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "window");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var id = EventBodies.NewId("window");
        var body = EventBodies.Body(id, 2_500);

        var first = await app.SendSignedAsync(id, body);
        var firstReceipt = await ReceiptOfAsync(app, first);
        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        var justInside = await app.SendSignedAsync(id, body);
        clock.Advance(TimeSpan.FromSeconds(2));
        var outside = await app.SendSignedAsync(id, body);
        var outsideReceipt = await ReceiptOfAsync(app, outside);

        // Inside the window the endpoint answers with the first copy's 202: the same receipt, nothing published.
        Assert.False(first.Replayed);
        Assert.Equal(JobRole.Leader, firstReceipt.Role);
        Assert.Equal(HttpStatusCode.Accepted, justInside.Status);
        Assert.True(justInside.Replayed);
        Assert.Equal(first.Location, justInside.Location);

        // Past the window neither the endpoint nor the consumer remembers the event, so it is published and handled again;
        // the ledger's one entry per event id is what keeps this copy from becoming a second charge.
        Assert.False(outside.Replayed);
        Assert.NotEqual(first.Location, outside.Location);
        Assert.Equal(JobRole.Leader, outsideReceipt.Role);
        Assert.Equal(2, app.Publisher.Publishes);
        Assert.Equal(2, app.Idempotency.GetStats().Misses);
        Assert.Equal(2, app.Deduplicator.GetStats().Misses);
        Assert.Equal(2, ledger.Writes);
        var entry = Assert.Single(await app.ReadLedgerAsync());
        Assert.All(new[] { firstReceipt, outsideReceipt }, r => Assert.Equal(entry, r.Charge));
        await Watchdog.Until(() => settled["ack"] == 2, "two acks");
    }

    [Fact]
    public async Task Webhook_DeliveredAgainByTheBroker_IsAnsweredFromTheConsumersWindowWithoutASecondCharge()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "redelivered");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var id = EventBodies.NewId("redelivered");
        var body = EventBodies.Body(id, 3_100);
        var receipt = await ReceiptOfAsync(app, await app.SendSignedAsync(id, body));

        // The same message on the queue again, as the broker delivers it after a lost ack: it never passed the endpoint.
        ReadOnlyMemory<byte> again = body;
        await app.Publisher.PublishAsync(id, again, new JobDedup.RabbitMq.JobPublishProperties { ContentType = "application/json" }).Within();
        await Watchdog.Until(() => settled["ack"] == 2, "both deliveries acked");

        Assert.Equal(JobRole.Leader, receipt.Role);
        Assert.Equal(1, app.Deduplicator.GetStats().Misses);
        Assert.Equal(1, app.Deduplicator.GetStats().Hits);
        Assert.Equal(1, ledger.Writes);
        Assert.Equal(receipt.Charge, Assert.Single(await app.ReadLedgerAsync()));
    }

    private static async Task<Receipt> ReceiptOfAsync(WebhookApp app, Sent sent)
    {
        Assert.Equal(HttpStatusCode.Accepted, sent.Status);
        await Watchdog.Until(() => app.Receipts.Pending == 0, "the copy's outcome came back");
        var receipt = await app.ReadReceiptAsync(sent.Location!);
        Assert.Equal(ReceiptStatus.Succeeded, receipt.Status);
        return receipt;
    }

    /// <summary>Requests an attacker could send for an event: each must get 401.</summary>
    private static IEnumerable<(string EventId, byte[] Body, string? Signature, string What)> Forgeries(string id, byte[] body, DateTimeOffset now)
    {
        var t = now.ToUnixTimeSeconds();
        var raised = EventBodies.Body(id, 999_999);
        yield return (id, raised, Signer.Sign(WebhookApp.Secret, t, body), "amount changed under a genuine signature");
        yield return (id, body, Signer.Sign("whsec_guessed_wrong_secret_0000", t, body), "signed with another secret");
        yield return (id, body, Signer.Sign(WebhookApp.Secret, t - 3_600, body), "a genuine request from an hour ago, sent again");
        yield return (id, body, null, "no signature");
    }
}
