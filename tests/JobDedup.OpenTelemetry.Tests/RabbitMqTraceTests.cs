using System.Diagnostics;
using System.Text;
using JobDedup.OpenTelemetry.Tests.Support;
using JobDedup.RabbitMq;

namespace JobDedup.OpenTelemetry.Tests;

[Collection(BrokerCollection.Name)]
public sealed class RabbitMqTraceTests(Broker broker)
{
    [Fact]
    public async Task Delivery_PublishedInATrace_ItsProcessAndHandleSpansCarryThePublishersTraceAndTheDuplicateLinksToTheRun()
    {
        using var recorded = new Recorded();
        await using var queue = await TestQueue.CreateAsync(broker, "otel-trace");
        await queue.DeclareAsync();
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = Broker.Uri, RoutingKey = queue.Name });

        // Two clients, two traces, one key: published before the consumer starts, so both arrive in one prefetch.
        ActivityContext first, second;
        using (var request = Recorded.Callers.StartActivity("client-1", ActivityKind.Client, parentContext: default))
        {
            first = request!.Context;
            await publisher.PublishAsync("order-1", Encoding.UTF8.GetBytes("a"), new JobPublishProperties { MessageId = "m-1" }).Within();
        }

        using (var request = Recorded.Callers.StartActivity("client-2", ActivityKind.Client, parentContext: default))
        {
            second = request!.Context;
            await publisher.PublishAsync("order-1", Encoding.UTF8.GetBytes("b"), new JobPublishProperties { MessageId = "m-2" }).Within();
        }

        var gate = new Gate();
        await using var host = await ConsumerHost.StartAsync(queue, async (message, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "done";
        });
        await gate.Reached.Within();
        await Watchdog.Until(() => host.Deduplicator.GetStats().Hits == 1, "the duplicate delivery joined the run");
        gate.Open();
        await Watchdog.Until(
            () => recorded.Spans(first.TraceId, second.TraceId).Count(s => s.Kind == ActivityKind.Consumer) == 2,
            "both deliveries settled");

        // The leading delivery's trace: client → publish → process → handle.
        var trace1 = recorded.Spans(first.TraceId);
        var publish1 = Assert.Single(trace1, s => s.Kind == ActivityKind.Producer);
        Assert.Equal(first.SpanId, publish1.ParentSpanId);
        Assert.Equal("rabbitmq", publish1.GetTagItem("messaging.system"));
        Assert.Equal("send", publish1.GetTagItem("messaging.operation.type"));
        Assert.Equal(string.Empty, publish1.GetTagItem("messaging.destination.name"));
        Assert.Equal(queue.Name, publish1.GetTagItem("messaging.rabbitmq.destination.routing_key"));
        Assert.Equal("m-1", publish1.GetTagItem("messaging.message.id"));

        var process1 = Assert.Single(trace1, s => s.Kind == ActivityKind.Consumer);
        Assert.Equal(publish1.SpanId, process1.ParentSpanId);
        Assert.Equal("rabbitmq", process1.GetTagItem("messaging.system"));
        Assert.Equal("process", process1.GetTagItem("messaging.operation.type"));
        Assert.Equal(queue.Name, process1.GetTagItem("messaging.destination.subscription.name"));
        Assert.Equal("ack", process1.GetTagItem(RabbitMqTelemetry.SettlementTag));

        var handle = Assert.Single(trace1, s => s.OperationName == JobDedupTelemetry.HandleSpan);
        Assert.Equal(process1.SpanId, handle.ParentSpanId);

        // The duplicate's trace: client → publish → process → join, which links to the run that answered it.
        var trace2 = recorded.Spans(second.TraceId);
        var process2 = Assert.Single(trace2, s => s.Kind == ActivityKind.Consumer);
        Assert.Equal(Assert.Single(trace2, s => s.Kind == ActivityKind.Producer).SpanId, process2.ParentSpanId);
        var join = Assert.Single(trace2, s => s.OperationName == JobDedupTelemetry.JoinSpan);
        Assert.Equal(process2.SpanId, join.ParentSpanId);
        Assert.Equal(handle.SpanId, Assert.Single(join.Links).Context.SpanId);
        Assert.DoesNotContain(trace2, s => s.OperationName == JobDedupTelemetry.HandleSpan);

        // The dedupe key is never a span tag.
        Assert.DoesNotContain(trace1.Concat(trace2), s => s.TagObjects.Any(t => t.Value is string v && v.Contains("order-1", StringComparison.Ordinal)));
    }

    [Fact]
    public void Extract_HeadersAsTheBrokerDeliversThem_ReadsTraceParentAndState()
    {
        var parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var headers = new Dictionary<string, object?>
        {
            ["traceparent"] = Encoding.UTF8.GetBytes(parent),
            ["tracestate"] = Encoding.UTF8.GetBytes("vendor=value"),
        };

        var context = JobDedup.RabbitMq.Telemetry.MessagingSpans.Extract(headers);

        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", context.SpanId.ToHexString());
        Assert.Equal("vendor=value", context.TraceState);
        Assert.True(context.IsRemote);
        Assert.Equal(default, JobDedup.RabbitMq.Telemetry.MessagingSpans.Extract(new Dictionary<string, object?> { ["traceparent"] = "garbage"u8.ToArray() }));
    }
}
