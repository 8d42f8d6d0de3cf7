using System.Net;
using System.Text;
using PaymentWebhooks.Ledger;
using PaymentWebhooks.Tests.Support;

namespace PaymentWebhooks.Tests;

[Collection(BrokerCollection.Name)]
public sealed class LoggingTests(Broker broker)
{
    [Fact]
    public async Task Webhooks_AcceptedOrRejected_NeverWriteTheBodyToTheLog()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "logs");
        var outcomes = await queue.DeclareReplyQueueAsync();
        var clock = new FakeTimeProvider();
        var logs = new CapturedLogs();
        await using var app = await WebhookApp.StartAsync(queue, outcomes, new GatedLedger(new MemoryChargeLedger(clock)), clock, logs);
        var marker = $"card-holder-{Guid.NewGuid():N}";
        var id = EventBodies.NewId("logs");
        var body = EventBodies.Body(id, 1_234, reference: marker);

        var answers = new[]
        {
            await app.SendSignedAsync(id, body),
            await app.SendSignedAsync(id, body, "duplicate"),
            await app.PostAsync(id, body, Signer.Sign("whsec_guessed_wrong_secret_0000", clock.GetUtcNow(), body), "forged"),
            await app.SendSignedAsync(id, EventBodies.Body(id, 1, reference: marker, currency: "euro"), "unusable"),
            await app.SendSignedAsync(id, Encoding.UTF8.GetBytes($"{{\"id\": \"{marker}"), "broken JSON"),
            await app.SendSignedAsync(id, EventBodies.Body(id, 1, reference: marker + new string('x', 70_000)), "too large"),
        };
        await Watchdog.Until(() => app.Receipts.Pending == 0, "the outcomes came back");
        await app.StopAsync();

        Assert.Equal(
            [HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge],
            answers.Select(a => a.Status));

        // The capture works: accepted, rejected and recorded events are all there, with the event id but not the body.
        Assert.Contains(logs.Events, e => e.EventId == 5001 && e.Text.Contains(id, StringComparison.Ordinal));
        Assert.Contains(logs.Events, e => e.EventId == 5002);
        Assert.Contains(logs.Events, e => e.EventId == 5003);
        Assert.Contains(logs.Events, e => e.EventId == 5004);
        Assert.Contains(logs.Events, e => e.EventId == 5006);
        Assert.DoesNotContain(logs.Events, e => e.Text.Contains(marker, StringComparison.Ordinal));
    }
}
