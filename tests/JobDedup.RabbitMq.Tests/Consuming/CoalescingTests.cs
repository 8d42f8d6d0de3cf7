using System.Collections.Concurrent;
using System.Text;

namespace JobDedup.RabbitMq.Tests.Consuming;

[Collection(BrokerCollection.Name)]
public sealed class CoalescingTests(Broker broker)
{
    [Fact]
    public async Task Consumer_TwoHundredDeliveriesOverFiveKeysWhileHandlerHeld_RunsFiveTimesAndAcksAll()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "coalesce");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 200; i++)
        {
            await queue.PublishAsync($"order-{i % 5}", $"{{\"n\":{i}}}");
        }

        var gate = new Gate();
        var runs = new ConcurrentBag<string>();
        await using var host = await ConsumerHost.StartAsync(queue, async (message, context, ct) =>
        {
            runs.Add(context.Key);
            await gate.WaitAsync(ct);
            return "handled " + context.Key;
        });

        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 195, "all 200 deliveries reached the 5 flights");
        await Watchdog.Until(() => gate.Arrivals == 5, "the 5 handlers are running");
        Assert.Equal(5, runs.Count);
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 200, "200 acks");
        await host.StopAsync();

        Assert.Equal(["order-0", "order-1", "order-2", "order-3", "order-4"], runs.Order());
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(200, settled["ack"]);
    }

    [Fact]
    public async Task Consumer_KeyFromJsonProperty_CoalescesByThatProperty()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "json-key");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 20; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"data\":{{\"id\":\"evt_{i % 2}\"}},\"copy\":{i}}}");
        }

        var gate = new Gate();
        var runs = new ConcurrentBag<string>();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, context, ct) =>
            {
                runs.Add(context.Key);
                await gate.WaitAsync(ct);
                return "ok";
            },
            consumer: o => o.KeyRule = RabbitMqKeyRule.JsonProperty("data.id"));

        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 18, "all 20 deliveries reached the 2 flights");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 20, "20 acks");

        Assert.Equal(["evt_0", "evt_1"], runs.Order());
    }

    [Fact]
    public async Task Consumer_DedupeWindow_LateDuplicateIsAckedWithoutASecondRun()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "window");
        using var settled = new Settlements(queue.Name);
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (message, context, ct) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult("charged " + Encoding.UTF8.GetString(message.Body.Span));
            },
            dedup: o => o.DedupeWindow = TimeSpan.FromHours(24));

        await queue.PublishAsync("evt_1", "first");
        await Watchdog.Until(() => settled["ack"] == 1, "first delivery acked");
        await queue.PublishAsync("evt_1", "redelivered by the provider");
        await Watchdog.Until(() => settled["ack"] == 2, "late duplicate acked");

        Assert.Equal(1, runs);
        Assert.Equal(1, host.Deduplicator.GetStats().Hits);
    }
}
