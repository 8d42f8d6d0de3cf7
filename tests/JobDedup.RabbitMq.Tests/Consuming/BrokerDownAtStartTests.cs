using System.Net;
using System.Net.Sockets;
using JobDedup.RabbitMq.Consuming;
using JobDedup.RabbitMq.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.RabbitMq.Tests.Consuming;

/// <summary>A broker that cannot be reached when the host starts: the host runs on, or fails at once when asked to.</summary>
[Collection(BrokerCollection.Name)]
public sealed class BrokerDownAtStartTests(Broker broker)
{
    [Fact]
    public async Task Start_BrokerRefusesConnections_HostStartsUnhealthyThenConsumesOnceTheBrokerIsReachable()
    {
        var target = new Uri(Broker.Uri);
        await using var proxy = TcpFaultProxy.Start(target.Host, target.Port);
        proxy.RefuseNewConnections();
        await using var queue = await TestQueue.CreateAsync(broker, "down-at-start");
        using var settled = new Settlements(queue.Name);
        var handled = 0;
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) =>
            {
                Interlocked.Increment(ref handled);
                return ValueTask.FromResult("ok");
            },
            consumer: o => o.ConnectionUri = Through(proxy));
        var consumer = Consumers.Of(host);
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();

        var whileDown = await health.CheckHealthAsync();
        Assert.Equal(ConsumerState.Connecting, consumer.State);
        Assert.Equal(HealthStatus.Unhealthy, whileDown.Entries[$"rabbitmq-{queue.Name}"].Status);
        Assert.Contains("has not reached the broker yet", whileDown.Entries[$"rabbitmq-{queue.Name}"].Description, StringComparison.Ordinal);
        Assert.True(proxy.RefusedConnections >= 1, "the consumer tried to connect");

        proxy.Restore();
        await Watchdog.Until(() => consumer.IsConsuming, "the consumer reached the broker in the background");
        await queue.PublishAsync("k-1", "{}");
        await Watchdog.Until(() => settled["ack"] == 1, "the message was consumed");
        var afterwards = await health.CheckHealthAsync();
        await host.StopAsync();

        Assert.Equal(1, handled);
        Assert.Equal(HealthStatus.Healthy, afterwards.Entries[$"rabbitmq-{queue.Name}"].Status);
    }

    [Fact]
    public async Task Start_NothingListensOnThePort_HostStartsAndStopsCleanlyWhileTheConsumerKeepsTrying()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "closed-port");
        await using var host = await ConsumerHost.StartAsync(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            consumer: o => o.ConnectionUri = $"amqp://guest:guest@127.0.0.1:{ClosedPort()}/");
        var consumer = Consumers.Of(host);
        var health = host.Host.Services.GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync();
        await host.StopAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Entries[$"rabbitmq-{queue.Name}"].Status);
        Assert.Equal(ConsumerState.Stopped, consumer.State);
    }

    [Fact]
    public async Task Start_FailFastOnStartAndBrokerUnreachable_HostStartFailsWithAPlainMessage()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "fail-fast");
        var port = ClosedPort();
        using var host = ConsumerHost.Build(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            consumer: o =>
            {
                o.ConnectionUri = $"amqp://guest:guest@127.0.0.1:{port}/";
                o.FailFastOnStart = true;
            });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().Within());

        Assert.Contains($"could not connect to RabbitMQ at amqp://guest:***@127.0.0.1:{port}/", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionUri", error.Message, StringComparison.Ordinal);
        Assert.Contains("FailFastOnStart", error.Message, StringComparison.Ordinal);
    }

    private static string Through(TcpFaultProxy proxy)
    {
        var uri = new UriBuilder(Broker.Uri) { Host = proxy.Host, Port = proxy.Port };
        return uri.Uri.ToString();
    }

    /// <summary>A port nothing listens on: bound once to get a free one, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
