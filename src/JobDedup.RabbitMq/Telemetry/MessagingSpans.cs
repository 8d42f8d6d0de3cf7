using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace JobDedup.RabbitMq.Telemetry;

/// <summary>
/// The transport's spans, with OpenTelemetry's messaging conventions, and the W3C trace context (<c>traceparent</c>,
/// <c>tracestate</c>) carried in AMQP headers: the publisher writes it, the consumer reads it, so a delivery's span is
/// the child of the span that published it. Nothing is allocated for spans while no listener is attached.
/// </summary>
internal static class MessagingSpans
{
    public static readonly ActivitySource Source = new(
        RabbitMqTelemetry.ActivitySourceName,
        typeof(MessagingSpans).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0");

    private const string MessagingSystem = "messaging.system";
    private const string OperationType = "messaging.operation.type";
    private const string OperationName = "messaging.operation.name";
    private const string DestinationName = "messaging.destination.name";
    private const string SubscriptionName = "messaging.destination.subscription.name";
    private const string RoutingKey = "messaging.rabbitmq.destination.routing_key";
    private const string MessageId = "messaging.message.id";
    private const string ConversationId = "messaging.message.conversation_id";
    private const string BodySize = "messaging.message.body.size";

    /// <summary>
    /// Starts the producer span of a publish, when anyone listens, and writes the trace context into
    /// <paramref name="headers"/>: the span's, or else the caller's current activity's, so a trace carries on across
    /// the broker even when JobDedup's spans are not recorded.
    /// </summary>
    /// <param name="exchange">The exchange.</param>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="messageId">The message id; not recorded when it is the dedupe key (keys may be personal data).</param>
    /// <param name="key">The dedupe key.</param>
    /// <param name="correlationId">The correlation id.</param>
    /// <param name="bodySize">The body's size in bytes.</param>
    /// <param name="headers">The headers the trace context is written into.</param>
    public static Activity? StartPublish(string exchange, string routingKey, string? messageId, string key, string? correlationId, int bodySize, IDictionary<string, object?> headers)
    {
        try
        {
            return StartPublishCore(exchange, routingKey, messageId, key, correlationId, bodySize, headers);
        }
        catch (Exception)
        {
            // A throwing activity listener or propagator is its own bug; the message is published untraced.
            return null;
        }
    }

    /// <summary>
    /// Starts the consumer span of one delivery, when anyone listens: the child of the trace context the message
    /// carries (a root when it carries none). It is not made current; the intake makes it current while it hands the
    /// delivery to the deduplicator, so the run's span has it as parent.
    /// </summary>
    /// <param name="message">The delivery's message.</param>
    /// <param name="queue">The consumer's queue.</param>
    public static Activity? StartProcess(RabbitMqMessage message, string queue)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        try
        {
            return StartProcessCore(message, queue);
        }
        catch (Exception)
        {
            // A throwing activity listener is its own bug; the delivery is handled untraced, never requeued for it.
            return null;
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    /// <summary>Ends a delivery's span with how it was settled. Never throws.</summary>
    public static void EndProcess(Activity span, string settlement, bool failed)
    {
        var previous = Activity.Current;
        try
        {
            span.SetTag(RabbitMqTelemetry.SettlementTag, settlement);
            if (failed)
            {
                span.SetStatus(ActivityStatusCode.Error, settlement);
            }

            span.Stop();
        }
        catch (Exception)
        {
            // A throwing activity listener is its own bug; the settlement stands.
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    private static Activity? StartPublishCore(string exchange, string routingKey, string? messageId, string key, string? correlationId, int bodySize, IDictionary<string, object?> headers)
    {
        Activity? span = null;
        if (Source.HasListeners())
        {
            span = Source.StartActivity($"publish {(exchange.Length > 0 ? exchange : routingKey)}", ActivityKind.Producer);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag(MessagingSystem, "rabbitmq");
                span.SetTag(OperationType, "send");
                span.SetTag(OperationName, "publish");
                span.SetTag(DestinationName, exchange);
                SetCommonTags(span, routingKey, messageId == key ? null : messageId, correlationId, bodySize);
            }
        }

        if ((span ?? Activity.Current) is { } context)
        {
            DistributedContextPropagator.Current.Inject(context, headers, static (carrier, name, value) =>
            {
                if (carrier is IDictionary<string, object?> dictionary)
                {
                    dictionary[name] = value;
                }
            });
        }

        return span;
    }

    private static Activity? StartProcessCore(RabbitMqMessage message, string queue)
    {
        var span = Source.CreateActivity($"process {queue}", ActivityKind.Consumer, Extract(message.Headers));
        if (span is null)
        {
            return null;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(MessagingSystem, "rabbitmq");
            span.SetTag(OperationType, "process");
            span.SetTag(OperationName, "deliver");
            span.SetTag(DestinationName, message.Exchange);
            span.SetTag(SubscriptionName, queue);
            var messageId = message.MessageId is { } id && id != message.GetHeader(JobDedupHeaders.Key) ? id : null;
            SetCommonTags(span, message.RoutingKey, messageId, message.CorrelationId, message.Body.Length);
        }

        return span.Start();
    }

    /// <summary>Reads the W3C trace context from AMQP headers (text arrives from the broker as UTF-8 bytes).</summary>
    /// <returns>The remote context; default when the headers carry none or an invalid one.</returns>
    public static ActivityContext Extract(IReadOnlyDictionary<string, object?> headers)
    {
        if (headers.Count == 0)
        {
            return default;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(
            headers,
            static (carrier, name, out value, out values) =>
            {
                values = null;
                value = carrier is IReadOnlyDictionary<string, object?> dictionary && dictionary.TryGetValue(name, out var raw)
                    ? raw switch
                    {
                        byte[] bytes => Encoding.UTF8.GetString(bytes),
                        string text => text,
                        _ => null,
                    }
                    : null;
            },
            out var traceParent,
            out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }

    private static void SetCommonTags(Activity span, string routingKey, string? messageId, string? correlationId, int bodySize)
    {
        if (routingKey.Length > 0)
        {
            span.SetTag(RoutingKey, routingKey);
        }

        if (!string.IsNullOrEmpty(messageId))
        {
            span.SetTag(MessageId, messageId);
        }

        if (!string.IsNullOrEmpty(correlationId))
        {
            span.SetTag(ConversationId, correlationId);
        }

        span.SetTag(BodySize, bodySize);
    }
}
