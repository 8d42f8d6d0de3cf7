using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using JobDedup.RabbitMq.Consuming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>
/// Regression tests for defects found in review of the RabbitMQ consumer and publisher. Each one failed on the code it
/// was written against and describes the behaviour that must hold.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RegressionTests(Broker broker)
{
    /// <summary>How long a test watches for something that must not happen, or for a recovery that should be quick.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Consumer_ReplySerializerThrows_TheDeliveryIsStillSettled()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply-serializer");
        using var settled = new Settlements(queue.Name);
        var replies = await queue.DeclareReplyQueueAsync();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult("ok");
            },
            consumer: o => o.ReplySerializer = _ => throw new InvalidOperationException("the reply cannot be serialized"),
            shutdownTimeout: TimeSpan.FromSeconds(2));
        var consumer = ConsumerOf(host);

        await queue.PublishAsync("k-1", "{}", replyTo: replies, correlationId: "c-1");
        await Watchdog.Until(() => Volatile.Read(ref runs) == 1, "the handler ran");

        // The delivery was claimed for an ack, then the reply serializer threw inside a fire-and-forget task: no ack, no
        // nack, and it stays in Pending (holding a prefetch slot) until shutdown times out.
        var settledInTime = await EventuallyAsync(() => consumer.Pending == 0);
        Assert.True(settledInTime, $"the delivery was never settled: pending {consumer.Pending}, ack {settled["ack"]}, requeue {settled["requeue"]}, dead-letter {settled["dead-letter"]}");
    }

    [Fact]
    public async Task Consumer_IsPermanentFailureThrows_TheDeliveryIsStillSettled()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "permanent-throws");
        using var settled = new Settlements(queue.Name);
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new TimeoutException("gateway timeout");
            },
            consumer: o => o.IsPermanentFailure = _ => throw new InvalidOperationException("bug in the classifier"),
            shutdownTimeout: TimeSpan.FromSeconds(2));
        var consumer = ConsumerOf(host);

        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => Volatile.Read(ref runs) >= 1, "the handler ran");

        var settledInTime = await EventuallyAsync(() => consumer.Pending == 0);
        Assert.True(settledInTime, $"the delivery was never settled: pending {consumer.Pending}, retry {settled["retry"]}, requeue {settled["requeue"]}, dead-letter {settled["dead-letter"]}");
    }

    [Fact]
    public async Task Consumer_PublishChannelClosedByAChannelError_RecoversOnceTheDeadLetterExchangeIsBack()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "publish-channel");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) => ValueTask.FromResult("ok"));
        var exchange = $"{queue.Name}.dead-letter";

        // An operator deletes the dead-letter exchange: the next dead letter is published to a missing exchange, and the
        // broker closes the consumer's publish channel (404). Nothing ever opens it again.
        await admin.Channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        await queue.PublishAsync(key: null, "{\"no\":\"key\"}");
        await Watchdog.Until(() => settled["deferred"] >= 1, "the failed dead letter is held to be tried again");

        await admin.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false);
        await admin.Channel.QueueBindAsync(queue.DeadLetterQueue, exchange, queue.Name);

        var arrived = await EventuallyAsync(async () => await queue.CountAsync(queue.DeadLetterQueue) == 1);
        Assert.True(arrived, $"the dead letter never arrived after the exchange was restored; the delivery was requeued {settled["requeue"]} times (immediate redelivery each time)");
    }

    [Fact]
    public async Task Consumer_RetryPublishFails_DoesNotRunTheHandlerInAHotRequeueLoop()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "hot-loop");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref runs);
                throw new TimeoutException("gateway timeout");
            },
            consumer: o => o.MaxDeliveryAttempts = 3);

        // The retry queue is gone (deleted, or never declared with DeclareTopology = false): the retry is returned as
        // unroutable, and the delivery is nacked with requeue, so the broker hands it straight back.
        await admin.Channel.QueueDeleteAsync($"{queue.Name}.retry.1", ifUnused: false, ifEmpty: false);
        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => settled["deferred"] >= 1, "the failed retry is held to be tried again");

        var looping = await EventuallyAsync(() => Volatile.Read(ref runs) > 20, TimeSpan.FromSeconds(5));
        Assert.False(looping, $"one message with MaxDeliveryAttempts = 3 ran the handler {Volatile.Read(ref runs)} times ({settled["requeue"]} immediate requeues)");
    }

    [Fact]
    public async Task Consumer_BrokerCancelsTheConsumer_ResumesOrReportsUnhealthy()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "broker-cancel");
        await using var admin = await Admin.OpenAsync();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult("ok");
        });
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();

        // The queue is deleted and declared again (an operator, or a classic queue whose node went down): the broker sends
        // basic.cancel. The consumer ignores it, keeps reporting Healthy, and never consumes again.
        await admin.Channel.QueueDeleteAsync(queue.Name, ifUnused: false, ifEmpty: false);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}");

        var handled = await EventuallyAsync(() => Volatile.Read(ref runs) == 1);
        var report = await health.CheckHealthAsync();
        var status = report.Entries[$"rabbitmq-{queue.Name}"].Status;
        Assert.True(handled || status != HealthStatus.Healthy, $"handled: {handled}; health: {status}; the queue holds {await queue.CountAsync(queue.Name)} message(s) nobody consumes");
    }

    [Fact]
    public async Task Host_StopsWhileTheConnectionIsDown_DoesNotSpinRequeuingAfterRecovery()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "stop-offline");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}");
        var gate = new Gate();
        await using var host = await ConsumerHost.StartAsync(queue, async (_, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "ok";
        });
        var consumer = ConsumerOf(host);
        await gate.Reached.Within();

        await CloseConnectionAsync($"jobdedup:{queue.Name}");
        await Watchdog.Until(() => !consumer.IsConnected, "the consumer saw the connection go");

        // Stop starts while the channel is closed, so BasicCancel is skipped; recovery then re-registers the consumer and
        // every delivery during the drain is nacked with requeue and redelivered at once.
        var stopping = host.StopAsync();
        await Watchdog.Until(() => consumer.State == ConsumerState.Stopping, "the consumer is stopping");
        await Watchdog.Until(() => consumer.IsConnected, "the connection recovered");
        var spinning = await EventuallyAsync(() => settled["requeue"] > 20, TimeSpan.FromSeconds(5));
        gate.Open();
        await stopping.Within();

        Assert.False(spinning, $"{settled["requeue"]} requeues of one message while stopping");
        Assert.Equal(1u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_DeliveryFromBeforeARecovery_IsNotDeadLetteredTwice()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "stale-tag");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await queue.PublishAsync("k-1", "{}", messageId: "m-1");
        var gate = new Gate();
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            async (_, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                throw new ArgumentException("card declined");
            },
            consumer: o => o.IsPermanentFailure = ex => ex is ArgumentException);
        var consumer = ConsumerOf(host);
        await gate.Reached.Within();

        // The connection drops while the flight runs: the broker requeues m-1 and redelivers it after recovery; the copy
        // joins the same flight. Both deliveries then fail, and both are dead-lettered, although the first one's ack is a
        // no-op on the recovered channel (stale tag) and the broker already holds the message again.
        await CloseConnectionAsync($"jobdedup:{queue.Name}");
        await Watchdog.Until(() => !consumer.IsConnected, "the consumer saw the connection go");
        await Watchdog.Until(() => consumer.IsConnected && host.Deduplicator.GetStats().Hits == 1, "the redelivered copy joined the flight");
        gate.Open();
        await Watchdog.Until(() => consumer.Pending == 0 && settled["dead-letter"] >= 1, "both deliveries settled");
        await host.StopAsync();

        var letters = await queue.DrainAsync(queue.DeadLetterQueue);
        Assert.Equal(1, runs);
        Assert.Equal(0u, await queue.CountAsync(queue.Name));
        Assert.Single(letters);
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
            var served = await EventuallyAsync(() => cold.Count == 5);
            Assert.True(served, $"{cold.Count} of 5 cold keys handled while the hot key was held");
        }
        finally
        {
            gate.Open();
            await host.StopAsync().Within();
        }
    }

    [Fact]
    public async Task Consumer_RetriedThenDeadLetteredMessage_KeepsItsProperties()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "properties");
        using var settled = new Settlements(queue.Name);
        await using var admin = await Admin.OpenAsync();
        await queue.DeclareAsync();
        var sent = new AmqpTimestamp(1_700_000_000);
        await admin.Channel.BasicPublishAsync(string.Empty, queue.Name, mandatory: true, new BasicProperties
        {
            MessageId = "m-1",
            AppId = "billing",
            ContentEncoding = "gzip",
            Priority = 7,
            Timestamp = sent,
            Persistent = true,
            Headers = new Dictionary<string, object?> { [JobDedupHeaders.Key] = "k-1", ["tenant"] = "acme" },
        }, Encoding.UTF8.GetBytes("{}"));
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) => throw new TimeoutException("gateway timeout"),
            consumer: o => o.MaxDeliveryAttempts = 2);

        await Watchdog.Until(() => settled["retry"] == 1 && settled["dead-letter"] == 1, "retried once, then dead-lettered");
        await host.StopAsync();

        var letter = Assert.Single(await queue.DrainAsync(queue.DeadLetterQueue)).BasicProperties;
        Assert.Equal("acme", Encoding.UTF8.GetString((byte[])letter.Headers!["tenant"]!));
        Assert.Equal("billing", letter.AppId);
        Assert.Equal("gzip", letter.ContentEncoding);
        Assert.Equal(7, letter.Priority);
        Assert.Equal(sent, letter.Timestamp);
    }

    [Fact]
    public async Task Consumer_ReplyToThatMakesTheBrokerDropTheConnection_IsNotRedeliveredForever()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "reply-crash");
        using var settled = new Settlements(queue.Name);
        var runs = 0;
        await using var host = await ConsumerHost.StartAsync(queue, (_, _, _) =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult("ok");
        });

        // A well-formed-looking direct reply-to name that RabbitMQ 3.10 cannot decode: publishing the reply closes the
        // whole connection (541 INTERNAL_ERROR). The reply goes out before the ack, so the ack is lost, the message comes
        // back after recovery, the handler runs again, and the reply kills the connection again.
        await queue.PublishAsync("k-1", "{}", replyTo: "amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NTY3OAAAAQAAAAAAAAAA.abc");
        await Watchdog.Until(() => Volatile.Read(ref runs) >= 1, "the handler ran");

        var acked = await EventuallyAsync(async () => settled["ack"] >= 1 && await queue.CountAsync(queue.Name) == 0 && ConsumerOf(host).Pending == 0);
        Assert.True(acked && Volatile.Read(ref runs) == 1, $"acked: {acked}; the handler ran {Volatile.Read(ref runs)} times for one message");
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
            var both = await EventuallyAsync(() => handled.Count == 2);
            await host.StopAsync().Within();

            Assert.True(both, $"handled: [{string.Join(", ", handled.Keys)}]");
        }
    }

    [Fact]
    public async Task Publisher_AfterTheBrokerClosedItsChannel_PublishesAgainOnceTheExchangeExists()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "publisher-channel");
        await using var admin = await Admin.OpenAsync();
        await queue.DeclareAsync();
        var exchange = $"{queue.Name}.jobs";
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions
        {
            ConnectionUri = Broker.Uri,
            Exchange = exchange,
            RoutingKey = queue.Name,
        });
        try
        {
            // The exchange is missing: the broker closes the publisher's channel (404). That publish may fail...
            await Assert.ThrowsAsync<JobPublishException>(() => publisher.PublishAsync("k-1", new { n = 1 }).Within());

            await admin.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: false, autoDelete: false);
            await admin.Channel.QueueBindAsync(queue.Name, exchange, queue.Name);

            // ...but the publisher must not stay broken: the connection is fine, only the channel was closed.
            await publisher.PublishAsync("k-2", new { n = 2 }).Within();
            Assert.Equal(1u, await queue.CountAsync(queue.Name));
        }
        finally
        {
            await admin.Channel.ExchangeDeleteAsync(exchange, ifUnused: false);
        }
    }

    private static RabbitMqConsumer<RabbitMqMessage, string> ConsumerOf(ConsumerHost host) =>
        host.Host.Services.GetRequiredKeyedService<RabbitMqConsumer<RabbitMqMessage, string>>(host.Name);

    /// <summary>Watches for a state for at most <paramref name="limit"/>; false when it was not reached.</summary>
    private static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? limit = null) =>
        EventuallyAsync(() => Task.FromResult(condition()), limit);

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Window);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Has the broker close one client connection, found by its client-provided name.</summary>
    private static async Task CloseConnectionAsync(string connectionName)
    {
        var node = Environment.GetEnvironmentVariable("RABBITMQ_NODENAME") ?? "rabbit@localhost";
        var listing = await RabbitMqCtlAsync(node, "list_connections", "-q", "--no-table-headers", "pid", "client_properties");
        var line = listing.Split('\n').FirstOrDefault(l => l.Contains($"{{\"connection_name\",\"{connectionName}\"}}", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No connection named {connectionName}:\n{listing}");
        await RabbitMqCtlAsync(node, "close_connection", line.Split('\t')[0].Trim(), "review test: connection loss");
    }

    private static async Task<string> RabbitMqCtlAsync(string node, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("rabbitmqctl", ["-n", node, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().Within();
        Assert.True(process.ExitCode == 0, $"rabbitmqctl {string.Join(' ', arguments)} failed: {await error}");
        return await output;
    }

    /// <summary>A connection of the test's own, to change the topology under the consumer.</summary>
    private sealed class Admin : IAsyncDisposable
    {
        private readonly IConnection _connection;

        private Admin(IConnection connection, IChannel channel)
        {
            _connection = connection;
            Channel = channel;
        }

        public IChannel Channel { get; }

        public static async Task<Admin> OpenAsync()
        {
            var connection = await new ConnectionFactory { Uri = new Uri(Broker.Uri), ClientProvidedName = "jobdedup-review-admin" }.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            return new Admin(connection, channel);
        }

        public async ValueTask DisposeAsync()
        {
            await _connection.CloseAsync();
            _connection.Dispose();
        }
    }
}
