using System.Collections.Concurrent;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.Options;

namespace JobDedup.RabbitMq.Tests.Consuming;

[Collection(BrokerCollection.Name)]
public sealed class FairnessTests(Broker broker)
{
    [Fact]
    public async Task Consumer_HotSlowKeyWithFiveHundredDuplicates_DoesNotStopFiftyOtherKeys()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "fairness");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 500; i++)
        {
            await queue.PublishAsync("hot", "{}");
        }

        for (var i = 0; i < 50; i++)
        {
            await queue.PublishAsync($"cold-{i}", "{}");
        }

        var gate = new Gate();
        var hotRuns = 0;
        var cold = new ConcurrentDictionary<string, int>();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, context, ct) =>
            {
                if (context.Key == "hot")
                {
                    Interlocked.Increment(ref hotRuns);
                    await gate.WaitAsync(ct);
                    return "hot done";
                }

                cold.AddOrUpdate(context.Key, 1, (_, n) => n + 1);
                return "cold done";
            },
            dedup: o => o.DedupeWindow = TimeSpan.FromMinutes(5),
            consumer: o =>
            {
                o.Prefetch = 50;
                o.MaxHeldDuplicatesPerKey = 10;
                o.RetryDelays = [TimeSpan.FromMilliseconds(200)];
            });

        // The hot key's handler is still held: the other keys complete anyway.
        await Watchdog.Until(() => cold.Count == 50, "all 50 cold keys handled while the hot key is held");
        Assert.Equal(1, hotRuns);
        Assert.True(settled["park"] > 0, "overflow of the hot key was parked");

        gate.Open();
        await Watchdog.Until(
            async () => settled["ack"] == 550 && await queue.CountAsync(queue.Name) == 0 && await queue.CountAsync($"{queue.Name}.retry.1") == 0,
            "all 550 messages acked and no message left parked");
        await host.StopAsync();

        Assert.Equal(1, hotRuns);
        Assert.All(cold.Values, runs => Assert.Equal(1, runs));
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
    }

    [Fact]
    public async Task Consumer_PrefetchNotAboveMaxHeldDuplicatesPerKey_IsRejectedOrStillServesOtherKeys()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "held-cap");
        await queue.DeclareAsync();
        for (var i = 0; i < 30; i++)
        {
            await queue.PublishAsync("hot", "{}");
        }

        for (var i = 0; i < 5; i++)
        {
            await queue.PublishAsync($"cold-{i}", "{}");
        }

        var gate = new Gate();
        var cold = new ConcurrentDictionary<string, int>();
        using var host = ConsumerHost.Build(
            queue,
            async (_, context, ct) =>
            {
                if (context.Key == "hot")
                {
                    await gate.WaitAsync(ct);
                    return "hot";
                }

                cold.TryAdd(context.Key, 1);
                return "cold";
            },
            consumer: o => o.Prefetch = 10); // MaxHeldDuplicatesPerKey keeps its default of 64
        try
        {
            await host.StartAsync().Within();
        }
        catch (OptionsValidationException ex)
        {
            Assert.Contains(nameof(RabbitMqConsumerOptions<RabbitMqMessage, string>.MaxHeldDuplicatesPerKey), ex.Message);
            return;
        }

        try
        {
            // All ten prefetch slots go to the held hot key and none is ever parked: the cold keys are starved.
            var served = await Eventually.HoldsAsync(() => cold.Count == 5);
            Assert.True(served, $"{cold.Count} of 5 cold keys handled while the hot key was held");
        }
        finally
        {
            gate.Open();
            await host.StopAsync().Within();
        }
    }
}
