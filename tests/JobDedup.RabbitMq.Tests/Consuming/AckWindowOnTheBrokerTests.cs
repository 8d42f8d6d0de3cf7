using JobDedup.RabbitMq.Tests.Support;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>The ack window on a real channel: what it keeps listed, and what it acks while an older delivery is held.</summary>
[Collection(BrokerCollection.Name)]
public sealed class AckWindowOnTheBrokerTests(Broker broker)
{
    [Fact]
    public async Task AckWindow_OneLongDeliveryAndManyFastOnes_ListsNoMoreThanThePrefetch()
    {
        const int Prefetch = 10;
        const int Fast = 200;
        await using var queue = await TestQueue.CreateAsync(broker, "window-bound");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("slow", "{}");
        for (var i = 0; i < Fast; i++)
        {
            await queue.PublishAsync($"fast-{i}", "{}");
        }

        var gate = new Gate();
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (_, context, ct) =>
            {
                if (context.Key == "slow")
                {
                    await gate.WaitAsync(ct);
                }

                return "ok";
            },
            consumer: o =>
            {
                o.Prefetch = Prefetch;
                o.MaxHeldDuplicatesPerKey = 5;
            });
        var consumer = Consumers.Of(host);
        await gate.Reached.Within();

        // Every fast delivery is acked on its own behind the held one, which frees its prefetch slot: the broker keeps
        // sending. A window that drops entries only from its front keeps all of them listed behind the slow one.
        await Watchdog.Until(() => settled["ack"] == Fast, $"the {Fast} fast deliveries acked while the slow one is held");
        var listedWhileHeld = consumer.ListedDeliveries;
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == Fast + 1 && consumer.Pending == 0, "the slow delivery acked too");

        Assert.True(listedWhileHeld <= Prefetch, $"the ack window listed {listedWhileHeld} deliveries with a prefetch of {Prefetch}");
        Assert.Equal(0, consumer.ListedDeliveries);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
    }
}
