using System.Collections.Concurrent;
using JobDedup.RabbitMq.Consuming;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Connections;

/// <summary>
/// The consumer and the publisher on a connection the application registered (as Aspire.RabbitMQ.Client does): they
/// deliver and dedupe on it, and leave it open when the host goes.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class InjectedConnectionTests(Broker broker)
{
    [Fact]
    public async Task Consumer_OnTheContainersConnection_CoalescesDuplicatesAndLeavesTheConnectionOpenAfterTheHost()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "injected-consumer");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        for (var i = 0; i < 20; i++)
        {
            await queue.PublishAsync($"order-{i % 2}", "{}");
        }

        await using var connection = await OpenApplicationConnectionAsync();
        var gate = new Gate();
        var runs = new ConcurrentBag<string>();
        var host = ConsumerHost.Build(
            queue,
            async (_, context, ct) =>
            {
                runs.Add(context.Key);
                await gate.WaitAsync(ct);
                return "ok";
            },
            consumer: o =>
            {
                o.ConnectionUri = "amqp://nobody:nothing@127.0.0.1:1/"; // never used: the connection is injected
                o.UseConnection();
            },
            engine: b => b.Services.AddSingleton<IConnection>(connection));
        await host.StartAsync().Within();
        var consumer = host.Services.GetRequiredKeyedService<RabbitMqConsumer<RabbitMqMessage, string>>(queue.Name);
        var deduplicator = host.Services.GetRequiredKeyedService<IJobDeduplicator<RabbitMqMessage, string>>(queue.Name);

        await Watchdog.Until(() => deduplicator.GetStats().Hits == 18, "20 deliveries in 2 flights");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 20, "20 acks");
        Assert.True(consumer.IsConsuming);
        await host.StopAsync().Within();
        host.Dispose();

        Assert.Equal(["order-0", "order-1"], runs.Order());
        await AssertStillServesAsync(connection, queue);
    }

    [Fact]
    public async Task Consumer_TheBrokerClosesTheInjectedConnectionAndTheClientRecoversIt_FollowsTheLossAndConsumesAgain()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "injected-recovery");
        using var settled = new Settlements(queue.Name);
        var name = $"jobdedup-tests:application:{queue.Name}";
        await using var connection = await new ConnectionFactory
        {
            Uri = new Uri(Broker.Uri),
            ClientProvidedName = name,
            AutomaticRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500),
        }.CreateConnectionAsync();
        var handled = 0;
        var host = ConsumerHost.Build(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref handled);
                return ValueTask.FromResult("ok");
            },
            consumer: o => o.UseConnection(),
            engine: b => b.Services.AddSingleton<IConnection>(connection));
        await host.StartAsync().Within();
        var consumer = host.Services.GetRequiredKeyedService<RabbitMqConsumer<RabbitMqMessage, string>>(queue.Name);
        await queue.PublishAsync("before", "{}");
        await Watchdog.Until(() => settled["ack"] == 1, "the first message was consumed");
        var generation = consumer.ConnectionGeneration;

        await BrokerControl.CloseConnectionAsync(name); // the test's own application connection, nobody else's
        await Watchdog.Until(() => consumer.ConnectionGeneration != generation, "the consumer followed the injected connection's loss");
        await Watchdog.Until(() => consumer.IsConsuming, "the client recovered the connection and the consumer consumes again");
        for (var i = 0; i < 5; i++)
        {
            await queue.PublishAsync($"after-{i}", "{}");
        }

        await Watchdog.Until(() => settled["ack"] == 6, "the later messages were consumed on the recovered connection");
        await host.StopAsync().Within();
        host.Dispose();

        Assert.Equal(6, handled);
        await AssertStillServesAsync(connection, queue);
    }

    [Fact]
    public async Task PublisherAndConsumer_SharedConnectionFromAddJobDedupRabbitMq_PublishAndDedupeOnIt()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "injected-shared");
        using var settled = new Settlements(queue.Name);
        await using var connection = await OpenApplicationConnectionAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var runs = new CountingHandler();
        builder.Services.AddSingleton<IConnection>(connection);
        builder.Services.AddJobDedupRabbitMq(o => o.UseConnection());
        builder.Services.AddJobPublisher(o => o.RoutingKey = queue.Name);
        builder.Services
            .AddJobDedup<RabbitMqMessage, string>(queue.Name, o => o.DedupeWindow = TimeSpan.FromHours(1))
            .UseHandler(runs.Answering("ok"))
            .AddRabbitMqConsumer(o =>
            {
                o.Queue = queue.Name;
                o.RetryDelays = [TimeSpan.FromMilliseconds(50)];
            });
        var host = builder.Build();
        await host.StartAsync().Within();
        var publisher = host.Services.GetRequiredService<IJobPublisher>();

        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync("refund-1", new { n = i }).Within();
        }

        await Watchdog.Until(() => settled["ack"] == 5, "5 acks");
        await host.StopAsync().Within();
        host.Dispose();

        Assert.Equal(1, runs.Runs);
        await AssertStillServesAsync(connection, queue);
    }

    [Fact]
    public async Task Publisher_OnTheContainersConnection_PublishesAndItsDisposalLeavesTheConnectionOpen()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "injected-publisher");
        await queue.DeclareAsync();
        await using var connection = await OpenApplicationConnectionAsync();
        var services = new ServiceCollection();
        services.AddSingleton<IConnection>(connection);
        services.AddJobPublisher(o =>
        {
            o.RoutingKey = queue.Name;
            o.UseConnection();
        });
        var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<RabbitMqJobPublisher>();

        await publisher.PublishAsync("k-1", new { n = 1 }).Within();
        await provider.DisposeAsync();

        Assert.True(connection.IsOpen, "disposing the publisher did not close the application's connection");
        Assert.Equal(1u, await queue.CountAsync(queue.Name));
    }

    [Fact]
    public async Task Consumer_WithTheContainersConnectionFactory_ConsumesOnAConnectionItCreatesAndClosesIt()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "injected-factory");
        using var settled = new Settlements(queue.Name);
        var factory = new CountingFactory(new ConnectionFactory { Uri = new Uri(Broker.Uri) });
        var host = ConsumerHost.Build(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            consumer: o => o.UseConnectionFactory(),
            engine: b => b.Services.AddSingleton<IConnectionFactory>(factory));
        await host.StartAsync().Within();

        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => settled["ack"] == 1, "the message was consumed");
        await host.StopAsync().Within();
        host.Dispose();

        // The consuming and the publishing connection, both named after the deduplicator, both ours to close.
        Assert.Equal([$"jobdedup:{queue.Name}", $"jobdedup:{queue.Name}:publish"], factory.Names.Order());
        Assert.All(factory.Created, c => Assert.False(c.IsOpen));
    }

    [Fact]
    public void PublisherBuiltWithoutTheContainer_UseConnection_FailsSayingToRegisterIt()
    {
        var options = new RabbitMqPublisherOptions { RoutingKey = "q" };
        options.UseConnection();

        var error = Assert.Throws<InvalidOperationException>(() => new RabbitMqJobPublisher(options));

        Assert.Contains("AddJobPublisher", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The application's connection outlived the host: still open, it opens a channel and finds the queue drained.</summary>
    private static async Task AssertStillServesAsync(IConnection connection, TestQueue queue)
    {
        Assert.True(connection.IsOpen, "the application's connection is still open after the host stopped");
        await using var channel = await connection.CreateChannelAsync();
        Assert.Equal(0u, await channel.MessageCountAsync(queue.Name));
    }

    /// <summary>A connection of the application's own, with the client's automatic recovery, as Aspire registers it.</summary>
    private static Task<IConnection> OpenApplicationConnectionAsync() =>
        new ConnectionFactory { Uri = new Uri(Broker.Uri), ClientProvidedName = "jobdedup-tests:application", AutomaticRecoveryEnabled = true }
            .CreateConnectionAsync();

    /// <summary>The application's factory, recording the connections it creates for the consumer.</summary>
    private sealed class CountingFactory(ConnectionFactory inner) : IConnectionFactory
    {
        public ConcurrentBag<string> Names { get; } = [];

        public ConcurrentBag<IConnection> Created { get; } = [];

        public IDictionary<string, object?> ClientProperties { get => inner.ClientProperties; set => inner.ClientProperties = value; }

        public string Password { get => inner.Password; set => inner.Password = value; }

        public ushort RequestedChannelMax { get => inner.RequestedChannelMax; set => inner.RequestedChannelMax = value; }

        public uint RequestedFrameMax { get => inner.RequestedFrameMax; set => inner.RequestedFrameMax = value; }

        public TimeSpan RequestedHeartbeat { get => inner.RequestedHeartbeat; set => inner.RequestedHeartbeat = value; }

        public string UserName { get => inner.UserName; set => inner.UserName = value; }

        public string VirtualHost { get => inner.VirtualHost; set => inner.VirtualHost = value; }

        public ICredentialsProvider? CredentialsProvider { get => inner.CredentialsProvider; set => inner.CredentialsProvider = value; }

        public Uri Uri { get => inner.Uri; set => inner.Uri = value; }

        public string? ClientProvidedName { get => inner.ClientProvidedName; set => inner.ClientProvidedName = value; }

        public TimeSpan HandshakeContinuationTimeout { get => inner.HandshakeContinuationTimeout; set => inner.HandshakeContinuationTimeout = value; }

        public TimeSpan ContinuationTimeout { get => inner.ContinuationTimeout; set => inner.ContinuationTimeout = value; }

        public ushort ConsumerDispatchConcurrency { get => inner.ConsumerDispatchConcurrency; set => inner.ConsumerDispatchConcurrency = value; }

        public IAuthMechanismFactory? AuthMechanismFactory(IEnumerable<string> mechanismNames) => inner.AuthMechanismFactory(mechanismNames);

        public Task<IConnection> CreateConnectionAsync(CancellationToken cancellationToken = default) => Record(inner.CreateConnectionAsync(cancellationToken), "(unnamed)");

        public Task<IConnection> CreateConnectionAsync(string clientProvidedName, CancellationToken cancellationToken = default) =>
            Record(inner.CreateConnectionAsync(clientProvidedName, cancellationToken), clientProvidedName);

        public Task<IConnection> CreateConnectionAsync(IEnumerable<string> hostnames, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IConnection> CreateConnectionAsync(IEnumerable<string> hostnames, string clientProvidedName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IConnection> CreateConnectionAsync(IEnumerable<AmqpTcpEndpoint> endpoints, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IConnection> CreateConnectionAsync(IEnumerable<AmqpTcpEndpoint> endpoints, string clientProvidedName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        private async Task<IConnection> Record(Task<IConnection> creating, string name)
        {
            var connection = await creating;
            Names.Add(name);
            Created.Add(connection);
            return connection;
        }
    }
}
