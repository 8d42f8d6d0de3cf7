using System.Net;
using System.Text;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Tests.Support;

namespace PaymentWebhooks.Tests;

[Collection(BrokerCollection.Name)]
public sealed class RejectionTests(Broker broker)
{
    [Fact]
    public async Task Webhook_ForgedOrReplayedSignatures_Get401AndAreNeverPublished()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "forged");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var real = EventBodies.NewId("real");
        var realBody = EventBodies.Body(real, 4_999);
        var fake = EventBodies.NewId("forged");
        var body = EventBodies.Body(fake, 1_000_000);
        var t = clock.GetUtcNow().ToUnixTimeSeconds();
        var good = Signer.Hex(WebhookApp.Secret, t, body);
        var forgeries = new (byte[] Body, string? Signature, string What)[]
        {
            (body, null, "no header"),
            (body, string.Empty, "empty header"),
            (body, $"v1={good}", "no timestamp"),
            (body, $"t={t}", "no signature"),
            (body, $"t=soon,v1={good}", "timestamp not a number"),
            (body, $"t={t},v1=", "empty signature"),
            (body, $"t={t},v1={good[..^1]}", "signature one digit short"),
            (body, $"t={t},v1={good[..^2]}zz", "signature not hex"),
            (body, $"t={t},v1={Convert.ToBase64String(Convert.FromHexString(good))}", "signature in base64"),
            (body, $"t={t + 1},v1={good}", "timestamp changed after signing"),
            (body, Signer.Sign("whsec_guessed_wrong_secret_0000", t, body), "another secret"),
            (body, Signer.Sign(WebhookApp.Secret[..^1], t, body), "the secret less its last character"),
            (body, $"t={t},v1={Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookApp.Secret), body))}", "HMAC of the body alone, without the timestamp"),
            (EventBodies.Body(real, 1), Signer.Sign(WebhookApp.Secret, t, realBody), "real event, amount changed under its genuine signature"),
            (body, Signer.Sign(WebhookApp.Secret, t - 301, body), "genuine, 5 minutes and 1 second old"),
            (body, Signer.Sign(WebhookApp.Secret, t + 301, body), "genuine, 5 minutes and 1 second ahead"),
            (body, $"t={t},v1={good},t={t}", "two timestamps"),
        };

        var answers = new List<Sent>();
        foreach (var (forgedBody, signature, what) in forgeries)
        {
            answers.Add(await app.PostAsync(fake, forgedBody, signature, what));
        }

        // The real event goes last: had any forgery been published, it would sit ahead of it in the queue.
        var sentinel = await app.SendSignedAsync(real, realBody);
        await Watchdog.Until(() => app.Receipts.Pending == 0, "the real event's outcome came back");
        await app.StopAsync();

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Unauthorized && a.Location is null && !a.Replayed, $"{a.What}: {a.Status}"));
        Assert.Equal(HttpStatusCode.Accepted, sentinel.Status);
        Assert.False(sentinel.Replayed);

        // No forgery reached the idempotency filter: none claimed an event id, so none could block or answer the real one.
        Assert.Equal(1, app.Idempotency.GetStats().Misses);
        Assert.Equal(0, app.Idempotency.GetStats().Hits);
        Assert.Equal(1, app.Publisher.Publishes);
        Assert.Equal(1, app.Receipts.Count);
        Assert.Equal(1, ledger.Writes);
        Assert.Equal(real, Assert.Single(await ((IChargeLedger)ledger).ListAsync(CancellationToken.None)).EventId);
        Assert.Equal(1, settled["ack"]);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Webhook_SignatureWithinToleranceOrDuringSecretRotation_IsAccepted()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "tolerance");
        var outcomes = await queue.DeclareReplyQueueAsync();
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var id = EventBodies.NewId("edge");
        var body = EventBodies.Body(id, 700);
        var t = clock.GetUtcNow().ToUnixTimeSeconds();
        var valid = new (string Signature, string What)[]
        {
            (Signer.Sign(WebhookApp.Secret, t - 300, body), "exactly 5 minutes old"),
            (Signer.Sign(WebhookApp.Secret, t + 300, body), "exactly 5 minutes ahead"),
            ($"t={t},v1={Signer.Hex("whsec_the_old_secret_000000", t, body)},v1={Signer.Hex(WebhookApp.Secret, t, body)}", "old and new secret, new one second"),
            ($"t={t},v0=ignored,v1={Signer.Hex(WebhookApp.Secret, t, body).ToUpperInvariant()}", "an unknown scheme alongside, hex in capitals"),
        };

        var answers = new List<Sent>();
        foreach (var (signature, what) in valid)
        {
            var sent = await app.PostAsync(id, body, signature, what);
            Assert.True(sent.Status == HttpStatusCode.Accepted, $"{what}: {sent.Status}");
            answers.Add(sent);
        }

        // Each passed the signature check; the first was published, the other three got its answer back.
        await Watchdog.Until(() => app.Receipts.Pending == 0, "every outcome came back");
        Assert.Equal([false, true, true, true], answers.Select(a => a.Replayed));
        Assert.Single(answers.Select(a => a.Location).Distinct());
        Assert.Equal(1, app.Publisher.Publishes);
        Assert.Equal(1, ledger.Writes);
    }

    [Fact]
    public async Task Webhook_SignedButUnusableBody_Gets400Or413AndIsNeverPublished()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "unusable");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var unusable = new (byte[] Body, HttpStatusCode Expected, string What)[]
        {
            (Encoding.UTF8.GetBytes("not json at all"), HttpStatusCode.BadRequest, "not JSON"),
            (Encoding.UTF8.GetBytes("[1,2,3]"), HttpStatusCode.BadRequest, "a JSON array"),
            (Encoding.UTF8.GetBytes("""{"type":"payment.succeeded","amount":1,"currency":"EUR"}"""), HttpStatusCode.BadRequest, "no id"),
            (EventBodies.Body(string.Empty, 1), HttpStatusCode.BadRequest, "empty id"),
            (EventBodies.Body(new string('x', 201), 1), HttpStatusCode.BadRequest, "id too long for a message id"),
            (EventBodies.Body(EventBodies.NewId("bad"), 1, currency: "euro"), HttpStatusCode.BadRequest, "currency not a code"),
            (EventBodies.Body(EventBodies.NewId("bad"), -5), HttpStatusCode.BadRequest, "negative amount"),
            (EventBodies.Body(EventBodies.NewId("big"), 1, reference: new string('r', 70_000)), HttpStatusCode.RequestEntityTooLarge, "larger than 64 KiB"),
        };

        var answers = new List<(Sent Sent, HttpStatusCode Expected)>();
        foreach (var (body, expected, what) in unusable)
        {
            answers.Add((await app.SendSignedAsync("bad", body, what), expected));
        }

        var real = EventBodies.NewId("real");
        var sentinel = await app.SendSignedAsync(real, EventBodies.Body(real, 10));
        await Watchdog.Until(() => app.Receipts.Pending == 0, "the real event's outcome came back");
        await app.StopAsync();

        Assert.All(answers, a => Assert.True(a.Sent.Status == a.Expected && a.Sent.Location is null && !a.Sent.Replayed, $"{a.Sent.What}: {a.Sent.Status}"));
        Assert.Equal(HttpStatusCode.Accepted, sentinel.Status);
        Assert.Equal(1, app.Idempotency.GetStats().Misses);
        Assert.Equal(1, app.Publisher.Publishes);
        Assert.Equal(1, ledger.Writes);
        Assert.Equal(1, settled["ack"]);
        Assert.Equal(0, settled["dead-letter"]);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Webhook_SameEventIdWithAnotherSignedBody_Gets422AndIsNeverPublished()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "changed");
        var outcomes = await queue.DeclareReplyQueueAsync();
        using var settled = new Settlements(PaymentWebhooksApp.DeduplicatorName);
        var clock = new FakeTimeProvider();
        var ledger = new GatedLedger(new MemoryChargeLedger(clock));
        await using var app = await WebhookApp.StartAsync(queue, outcomes, ledger, clock);
        var id = EventBodies.NewId("changed");

        var original = await app.SendSignedAsync(id, EventBodies.Body(id, 4_999));
        var changed = await app.SendSignedAsync(id, EventBodies.Body(id, 9_999), "same event id, another amount, genuinely signed");
        var again = await app.SendSignedAsync(id, EventBodies.Body(id, 4_999), "the original body again");
        await Watchdog.Until(() => app.Receipts.Pending == 0, "the original's outcome came back");
        await app.StopAsync();

        Assert.Equal(HttpStatusCode.Accepted, original.Status);
        Assert.True(changed.Status == HttpStatusCode.UnprocessableEntity && changed.Location is null, $"{changed.What}: {changed.Status}");
        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.True(again.Replayed);
        Assert.Equal(original.Location, again.Location);
        Assert.Equal(1, app.Publisher.Publishes);
        Assert.Equal(4_999, Assert.Single(await ((IChargeLedger)ledger).ListAsync(CancellationToken.None)).Amount);
        Assert.Equal(1, settled["ack"]);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }
}
