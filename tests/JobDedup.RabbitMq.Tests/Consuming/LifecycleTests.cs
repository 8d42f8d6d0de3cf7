using System.Collections.Concurrent;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JobDedup.RabbitMq.Tests.Consuming;

[Collection(BrokerCollection.Name)]
public sealed class LifecycleTests(Broker broker)
{
    [Fact]
    public async Task Consumer_BrokerClosesTheConnectionMidBurst_RecoversAndAccountsForEveryMessage()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "recovery");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 300; i++)
        {
            await queue.PublishAsync($"key-{i % 30}", $"{{\"n\":{i}}}");
        }

        var handled = new ConcurrentDictionary<string, int>();
        var firstHalf = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, context, ct) =>
            {
                await Task.Delay(20, ct);
                if (handled.AddOrUpdate(context.Key, 1, (_, n) => n + 1) == 1 && handled.Count == 10)
                {
                    firstHalf.TrySetResult();
                }

                return "ok";
            },
            dedup: o => o.DedupeWindow = TimeSpan.FromMinutes(5),
            consumer: o =>
            {
                o.Prefetch = 50;
                o.MaxHeldDuplicatesPerKey = 16;
            });

        await firstHalf.Task.Within();
        await BrokerControl.CloseAllConnectionsAsync();

        // Work queue empty and every key handled: nothing was lost. Deliveries whose ack died with the old connection
        // came back and were answered from the dedupe window.
        await Watchdog.Until(async () => handled.Count == 30 && await queue.CountAsync(queue.Name) == 0 && IsIdle(host), "all 30 keys handled and the queue drained");
        await host.StopAsync();

        await queue.ReconnectAsync();
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Equal(0u, await queue.CountAsync(queue.DeadLetterQueue));
        Assert.Equal(30, handled.Count);
        Assert.True(settled["ack"] >= 300, $"at least 300 acks, got {settled["ack"]}");
    }

    [Fact]
    public async Task Host_StopsWhileHandlersRun_UnfinishedDeliveriesGoBackToTheQueue()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "shutdown");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 30; i++)
        {
            await queue.PublishAsync($"key-{i % 3}", "{}");
        }

        var started = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (message, context, ct) =>
            {
                Interlocked.Increment(ref started);
                await Task.Delay(Timeout.Infinite, ct);
                return "never";
            },
            shutdownTimeout: TimeSpan.FromSeconds(1));
        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 27 && Volatile.Read(ref started) == 3, "30 deliveries held by 3 running flights");

        await host.StopAsync();

        var inQueue = await queue.CountAsync(queue.Name);
        Assert.True(settled["requeue"] == 30 && settled["ack"] == 0, $"Expected 30 requeued and none acked; settled: {settled}; {inQueue} in the queue; consumer {Consumers.Of(host).State}.");

        // The broker takes the nacks in as it processes them: the queue holds all 30 again soon after the stop (a count
        // read at once saw 1 in one run, with all 30 requeues sent).
        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) == 30u, "all 30 deliveries back in the queue");
    }

    [Fact]
    public async Task Acks_ANewerDeliveryDoneBeforeAnOlderOne_IsAckedWithoutAckingTheOlder()
    {
        // Acks are coalesced with multiple=true up to the newest ready delivery; one still in progress below it must
        // never be covered. The newer one is acked on its own, and the older one is still the broker's to requeue.
        await using var queue = await TestQueue.CreateAsync(broker, "ack-window");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("slow", "{}");
        for (var i = 0; i < 20; i++)
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
            shutdownTimeout: TimeSpan.FromSeconds(1));
        await gate.Reached.Within();
        await Watchdog.Until(() => settled["ack"] == 20, "the 20 newer deliveries acked");

        await host.StopAsync();

        Assert.Equal(1, settled["requeue"]);
        Assert.Equal(1u, await queue.CountAsync(queue.Name));
        var left = Assert.Single(await queue.DrainAsync(queue.Name));
        Assert.Equal("slow", System.Text.Encoding.UTF8.GetString((byte[])left.BasicProperties.Headers![JobDedupHeaders.Key]!));
    }

    [Fact]
    public async Task Host_Start_WithAQueueOfAnotherType_FailsNamingTheOption()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "mismatch");
        await queue.DeclareAsync(type: "quorum");
        using var host = ConsumerHost.Build(queue, (_, _, _) => ValueTask.FromResult("x"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().Within());

        Assert.Contains("QueueType", error.Message);
        Assert.Contains(queue.Name, error.Message);
    }

    [Fact]
    public async Task Host_Start_WithBadOptions_FailsNamingEachOption()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "bad-options");
        using var host = ConsumerHost.Build(queue, (_, _, _) => ValueTask.FromResult("x"), consumer: o =>
        {
            o.Prefetch = 0;
            o.RetryDelays = [];
            o.ConnectionUri = "http://example";
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("Prefetch", error.Message);
        Assert.Contains("RetryDelays", error.Message);
        Assert.Contains("ConnectionUri", error.Message);
    }

    [Fact]
    public async Task HealthCheck_ReportsRunningThenStopped()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "health");
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) => ValueTask.FromResult("x"));
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();

        var running = await health.CheckHealthAsync();
        await host.StopAsync();
        var stopped = await health.CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal(HealthStatus.Healthy, running.Entries[$"rabbitmq-{queue.Name}"].Status);
        Assert.Equal(HealthStatus.Unhealthy, stopped.Entries[$"rabbitmq-{queue.Name}"].Status);
    }

    [Fact]
    public async Task AddRabbitMqConsumer_TwiceForOneDeduplicator_FailsOrConsumesBothQueues()
    {
        await using var first = await TestQueue.CreateAsync(broker, "two-queues-a");
        await using var second = await TestQueue.CreateAsync(broker, "two-queues-b");
        await first.DeclareAsync();
        await second.DeclareAsync();
        var handled = new ConcurrentDictionary<string, int>();
        IHost host;
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Services
                .AddJobDedup<RabbitMqMessage, string>(first.Name)
                .UseHandler((_, context, _) =>
                {
                    handled.TryAdd(context.Key, 1);
                    return ValueTask.FromResult("ok");
                })
                .AddRabbitMqConsumer(o =>
                {
                    o.ConnectionUri = Broker.Uri;
                    o.Queue = first.Name;
                })
                .AddRabbitMqConsumer(o =>
                {
                    o.ConnectionUri = Broker.Uri;
                    o.Queue = second.Name;
                });
            host = builder.Build();
        }
        catch (InvalidOperationException)
        {
            return; // refusing the second registration is a fine answer
        }

        using (host)
        {
            // Today both registrations configure one options instance (the last Queue wins) and register one keyed consumer
            // as two hosted services; the host then fails to start with an unrelated "Duplicate health checks" error.
            await host.StartAsync().Within();
            await first.PublishAsync("from-a", "{}");
            await second.PublishAsync("from-b", "{}");
            var both = await Eventually.HoldsAsync(() => handled.Count == 2);
            await host.StopAsync().Within();

            Assert.True(both, $"handled: [{string.Join(", ", handled.Keys)}]");
        }
    }

    [Fact]
    public async Task AddRabbitMqConsumer_OptionsFromTheServiceProvider_ConsumesTheQueueConfigurationNames()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "from-configuration");
        var handled = new ConcurrentDictionary<string, int>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orders:Broker"] = Broker.Uri,
            ["Orders:Queue"] = queue.Name,
        });
        builder.Services
            .AddJobDedup<RabbitMqMessage, string>("orders")
            .UseHandler((_, context, _) =>
            {
                handled.TryAdd(context.Key, 1);
                return ValueTask.FromResult("ok");
            })
            .AddRabbitMqConsumer((services, o) =>
            {
                var configuration = services.GetRequiredService<IConfiguration>();
                o.ConnectionUri = configuration["Orders:Broker"]!;
                o.Queue = configuration["Orders:Queue"]!;
            });
        using var host = builder.Build();

        await host.StartAsync().Within();
        await queue.PublishAsync("from-configuration", "{}");
        var handledIt = await Eventually.HoldsAsync(() => handled.ContainsKey("from-configuration"));
        await host.StopAsync().Within();

        Assert.True(handledIt, $"handled: [{string.Join(", ", handled.Keys)}]");
    }

    private static bool IsIdle(ConsumerHost host) => host.Deduplicator.GetStats() is { Active: 0, Queued: 0 };
}
