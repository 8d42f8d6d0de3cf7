using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests.Http;

/// <summary>The worker's OTLP export (<c>JobDedup:Otlp</c>) over HTTP/protobuf, into a collector the test runs.</summary>
[Collection(BrokerCollection.Name)]
public sealed class OtlpExportTests(Broker broker)
{
    [Fact]
    public async Task Worker_OtlpEndpointOverHttpProtobuf_ExportsTheJobdedupMetricsAndAHandleSpan()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var queue = await TestQueue.CreateAsync(broker, "otlp-export");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(
            queue,
            sink,
            ("JobDedup__Otlp__Endpoint", collector.Endpoint.ToString()),
            ("JobDedup__Otlp__Protocol", "HttpProtobuf"),
            ("JobDedup__Otlp__ExportInterval", "00:00:01")));

        for (var i = 0; i < 4; i++)
        {
            await queue.PublishAsync(key: null, $"{{\"id\":\"evt_{i % 2}\"}}");
        }

        await Watchdog.Until(async () => await queue.CountAsync(queue.Name) == 0 && sink.TotalCalls >= 1, "the messages were handled");
        await Watchdog.Until(() => collector.Received("/v1/metrics", "jobdedup.jobs.enqueued"), "an OTLP metrics export holding jobdedup.jobs.enqueued");
        await Watchdog.Until(() => collector.Received("/v1/traces", "jobdedup.handle"), "an OTLP traces export holding a jobdedup.handle span");

        Assert.True(collector.Received("/v1/metrics", "jobdedup.rabbitmq.deliveries.settled"), "the consumer's settlements are exported too");
        Assert.True(collector.Received("/v1/metrics", "jobdedup-worker"), "the exports carry the worker's service name");
        Assert.DoesNotContain(collector.Requests, r => r.Path is not ("/v1/metrics" or "/v1/traces"));
    }
}
