using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using JobDedup.Worker.Http;
using JobDedup.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.Worker.Tests.Http;

[Collection(BrokerCollection.Name)]
public sealed class HealthEndpointTests(Broker broker)
{
    [Fact]
    public async Task Live_WhileTheWorkerRuns_Answers200WithAHealthyStatus()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-live");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink));

        using var response = await worker.Http.GetAsync(new Uri("/healthz/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_ConsumerConsuming_Answers200AndListsTheConsumerAsConsuming()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-ready");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink));

        var (status, body) = await ReadyAsync(worker);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        var consumer = Check(body, "rabbitmq-orders");
        Assert.Equal("Healthy", consumer.GetProperty("status").GetString());
        Assert.Equal("consuming", consumer.GetProperty("data").GetProperty("activity").GetString());
        Assert.True(consumer.GetProperty("data").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task Ready_WithAPostgreSqlStore_ListsTheStoreAsReachable()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-ready-pg");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(
            WorkerSettingsFor.Pipeline(queue, sink, ("DedupeWindow", "00:05:00"), ("PostgreSql", Servers.PostgreSql())));

        var (status, body) = await ReadyAsync(worker);

        Assert.Equal(HttpStatusCode.OK, status);
        var store = Check(body, "postgresql-orders");
        Assert.Equal("Healthy", store.GetProperty("status").GetString());
        Assert.Contains("127.0.0.1:5432", store.GetProperty("data").GetProperty("server").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_RedisStoreGoesDown_Answers503NamingTheStoreWhileLiveStays200()
    {
        await using var redis = await PrivateRedis.StartAsync();
        await using var queue = await TestQueue.CreateAsync(broker, "http-ready-redis");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(
            WorkerSettingsFor.Pipeline(queue, sink, ("DedupeWindow", "00:05:00"), ("Redis", redis.Configuration)));
        var (before, healthy) = await ReadyAsync(worker);
        Assert.Equal(HttpStatusCode.OK, before);
        Assert.Equal("Healthy", Check(healthy, "redis-orders").GetProperty("status").GetString());

        await redis.StopAsync();
        var (after, body) = await ReadyAsync(worker);
        using var live = await worker.Http.GetAsync(new Uri("/healthz/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, after);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", Check(body, "redis-orders").GetProperty("status").GetString());
        Assert.Equal("Healthy", Check(body, "rabbitmq-orders").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task HttpDisabled_WorkerConsumesWithoutListening()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-off");
        await using var sink = await HttpSink.StartAsync();
        var port = Ports.Free();
        await using var worker = await InProcessWorker.StartAsync(
            WorkerSettingsFor.Pipeline(queue, sink, ("JobDedup__Http__Enabled", "false"), ("JobDedup__Http__Port", $"{port}")));
        var replies = await queue.DeclareReplyQueueAsync();

        await queue.PublishAsync(key: null, "{\"id\":\"evt_1\"}", replyTo: replies, correlationId: "c1");
        await Watchdog.Until(async () => await queue.CountAsync(replies) == 1, "the reply");

        Assert.Null(worker.Services.GetService<HttpFace>());
        Assert.Null(worker.Address);
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task HttpPortTaken_StartFailsNamingThePortSetting()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "http-port-taken");
        await using var sink = await HttpSink.StartAsync();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(queue, sink, ("JobDedup__Http__Port", $"{port}"))));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Http:Port", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(InProcessWorker worker)
    {
        using var response = await worker.Http.GetAsync(new Uri("/healthz/ready", UriKind.Relative));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    private static JsonElement Check(JsonElement body, string name)
    {
        var checks = body.GetProperty("checks").EnumerateArray().ToList();
        var found = checks.Where(c => c.GetProperty("name").GetString() == name).ToList();
        Assert.True(found.Count == 1, $"Expected one check named {name}; the report lists {string.Join(", ", checks.Select(c => c.GetProperty("name").GetString()))}.");
        return found[0];
    }
}
