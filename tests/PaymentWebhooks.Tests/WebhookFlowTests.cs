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
        var ledger = new GatedLedger(new MemoryChargeLedger(clock), gate);
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var events = Enumerable.Range(0, Events)
            .Select(i => (Id: EventBodies.NewId($"p{i}"), Amount: 1_000L + i))
            .Select(e => (e.Id, e.Amount, Body: EventBodies.Body(e.Id, e.Amount, $"order-{e.Amount}")))
            .ToArray();

        // 40 copies of each event at once, with forgeries mixed in, while the ledger holds the first write of each.
        var copies = events.SelectMany(e => Enumerable.Range(0, ConcurrentCopies).Select(_ => app.SendSignedAsync(e.Id, e.Body)));
        var forged = events.SelectMany(e => Forgeries(e.Id, e.Body, clock.GetUtcNow()))
            .Select(f => app.PostAsync(f.EventId, f.Body, f.Signature, f.What));
        var sending = Task.WhenAll(copies.Concat(forged).ToArray());
        var first = await sending.Within();
        await Watchdog.Until(
            () => gate.Arrivals == Events && app.Deduplicator.GetStats() is { Misses: Events, Hits: Events * (ConcurrentCopies - 1) },
            "every concurrent copy joined its event's one handler run");
        Assert.Equal(Events, ledger.Writes);
        gate.Open();
        await Watchdog.Until(() => app.Receipts.Pending == 0, "every concurrent copy's outcome came back");

        // Hours later, still inside the 24-hour window: the provider sends 10 more copies of each event.
        clock.Advance(TimeSpan.FromHours(23));
        var late = await Task.WhenAll(events.SelectMany(e => Enumerable.Range(0, LateCopies).Select(_ => app.SendSignedAsync(e.Id, e.Body, "late copy")))).Within();
        await Watchdog.Until(() => app.Receipts.Pending == 0, "every late copy's outcome came back");

        var accepted = first.Where(s => s.What == "signed copy").Concat(late).ToArray();
        var rejected = first.Where(s => s.What != "signed copy").ToArray();
        Assert.Equal(Events * (ConcurrentCopies + LateCopies), accepted.Length);
        Assert.All(accepted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
        Assert.All(rejected, s => Assert.True(s.Status == HttpStatusCode.Unauthorized && s.Location is null, $"{s.What}: {s.Status}"));

        // Every accepted copy has its own receipt, read over HTTP, and each carries the one ledger entry of its event.
        var receipts = new List<(Sent Sent, Receipt Receipt)>();
        foreach (var sent in accepted)
        {
            receipts.Add((sent, await app.ReadReceiptAsync(sent.Location!)));
        }

        var entries = await app.ReadLedgerAsync();
        Assert.Equal(Events, entries.Count);
        Assert.Equal(events.Select(e => e.Id).Order(), entries.Select(c => c.EventId).Order());
        Assert.Equal(accepted.Length, receipts.Select(r => r.Receipt.Id).Distinct().Count());
        foreach (var (id, amount, _) in events)
        {
            var entry = Assert.Single(entries, c => c.EventId == id);
            Assert.Equal(amount, entry.Amount);
            var mine = receipts.Where(r => r.Sent.EventId == id).ToArray();
            Assert.Equal(ConcurrentCopies + LateCopies, mine.Length);
            Assert.All(mine, r =>
            {
                Assert.Equal(ReceiptStatus.Succeeded, r.Receipt.Status);
                Assert.Equal(id, r.Receipt.EventId);
                Assert.Equal(entry, r.Receipt.Charge);
            });
            var concurrent = mine.Where(r => r.Sent.What == "signed copy").Select(r => r.Receipt.Role).ToArray();
            Assert.Equal(1, concurrent.Count(r => r == JobRole.Leader));
            Assert.Equal(ConcurrentCopies - 1, concurrent.Count(r => r == JobRole.Joined));
            Assert.All(mine.Where(r => r.Sent.What == "late copy"), r => Assert.Equal(JobRole.Replayed, r.Receipt.Role));
        }

        // Exactly one handler run and one ledger write per event; every other copy was answered by JobDedup.
        Assert.Equal(Events, ledger.Writes);
        Assert.Equal(Events * (ConcurrentCopies + LateCopies - 1), app.Deduplicator.GetStats().Hits);
        Assert.Equal(Events, app.Deduplicator.GetStats().Misses);
        Assert.Equal(accepted.Length, app.Receipts.Count);

        // Nothing lost: every accepted copy was acked, and after the consumer has settled all it held, no queue keeps one.
        await Watchdog.Until(() => settled["ack"] == accepted.Length, "every accepted copy acked");
        await app.StopAsync();
        Assert.Equal(accepted.Length, settled["ack"]);
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

        var first = await ReceiptOfAsync(app, await app.SendSignedAsync(id, body));
        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        var justInside = await ReceiptOfAsync(app, await app.SendSignedAsync(id, body));
        clock.Advance(TimeSpan.FromSeconds(2));
        var outside = await ReceiptOfAsync(app, await app.SendSignedAsync(id, body));

        Assert.Equal(JobRole.Leader, first.Role);
        Assert.Equal(JobRole.Replayed, justInside.Role);

        // Past the window JobDedup no longer remembers the event, so the handler runs again; the ledger's one entry
        // per event id is what keeps this copy from becoming a second charge.
        Assert.Equal(JobRole.Leader, outside.Role);
        Assert.Equal(2, app.Deduplicator.GetStats().Misses);
        Assert.Equal(2, ledger.Writes);
        var entry = Assert.Single(await app.ReadLedgerAsync());
        Assert.All(new[] { first, justInside, outside }, r => Assert.Equal(entry, r.Charge));
        await Watchdog.Until(() => settled["ack"] == 3, "three acks");
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
