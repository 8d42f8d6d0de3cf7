using System.Collections.Concurrent;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Publishing;

[Collection(BrokerCollection.Name)]
public sealed class PublisherTests(Broker broker)
{
    [Fact]
    public async Task Publisher_SetsTheKeyHeader_SoTheConsumerCoalescesByIt()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "publisher");
        using var settled = new Settlements(queue.Name);
        await queue.DeclareAsync();
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, RoutingKey = queue.Name });
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => publisher.PublishAsync($"refund-{i % 4}", new Refund(i))));

        var gate = new Gate();
        var keys = new ConcurrentBag<string>();
        await using var host = await ConsumerHost.StartAsync(queue, async (message, context, ct) =>
        {
            keys.Add(context.Key);
            await gate.WaitAsync(ct);
            return "refunded";
        });
        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 36, "40 deliveries in 4 flights");
        gate.Open();
        await Watchdog.Until(() => settled["ack"] == 40, "40 acks");

        Assert.Equal(["refund-0", "refund-1", "refund-2", "refund-3"], keys.Order());
    }

    [Fact]
    public async Task Publisher_UnroutableMessage_ThrowsAClearError()
    {
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions
        {
            ConnectionUri = Broker.Uri,
            RoutingKey = $"no-such-queue-{Guid.NewGuid():N}",
        });

        var error = await Assert.ThrowsAsync<JobPublishException>(() => publisher.PublishAsync("k", new Refund(1)).Within());

        Assert.Contains("could not route", error.Message);
    }

    [Fact]
    public async Task Publisher_EmptyKey_ThrowsArgumentExceptionNamingKey()
    {
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, RoutingKey = "q" });

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => publisher.PublishAsync(string.Empty, new Refund(1)));

        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task Publisher_BytesGivenAsTheJob_AreSentAsTheBodyNotAsJson()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "publisher-bytes");
        await queue.DeclareAsync();
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, RoutingKey = queue.Name });

        await publisher.PublishAsync("k-1", System.Text.Encoding.UTF8.GetBytes("{\"id\":1}"));

        var message = Assert.Single(await queue.DrainAsync(queue.Name));
        Assert.Equal("{\"id\":1}", System.Text.Encoding.UTF8.GetString(message.Body.Span));
    }

    [Fact]
    public async Task AddJobPublisher_BrokerUnreachable_HostStartFailsNamingTheAddress()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddJobPublisher(o =>
        {
            o.ConnectionUri = "amqp://guest:guest@127.0.0.1:1/";
            o.RoutingKey = "q";
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<JobPublishException>(() => host.StartAsync().Within());

        Assert.Contains("127.0.0.1:1", error.Message);
    }

    [Fact]
    public async Task AddJobPublisher_BadOptions_HostStartFailsNamingTheOption()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddJobPublisher(o => o.ConnectionUri = "http://nope");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("ConnectionUri", error.Message);
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

    public sealed record Refund(int Amount);
}
