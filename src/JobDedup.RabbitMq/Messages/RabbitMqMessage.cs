using System.Text;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq;

/// <summary>
/// A delivery as the consumer saw it: a copy of the body (taken inside the broker's callback, so it stays valid)
/// and the properties that matter for deduplication, retries and replies.
/// </summary>
public sealed class RabbitMqMessage
{
    private static readonly IReadOnlyDictionary<string, object?> NoHeaders = new Dictionary<string, object?>();

    /// <summary>Initializes a new instance of the <see cref="RabbitMqMessage"/> class.</summary>
    /// <param name="body">The body.</param>
    /// <param name="headers">The headers; none when omitted.</param>
    public RabbitMqMessage(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, object?>? headers = null)
    {
        Body = body;
        Headers = headers ?? NoHeaders;
    }

    /// <summary>Gets the body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the headers. Text values arrive from the broker as UTF-8 bytes; use <see cref="GetHeader"/> to read them.</summary>
    public IReadOnlyDictionary<string, object?> Headers { get; }

    /// <summary>Gets the message id property.</summary>
    public string? MessageId { get; init; }

    /// <summary>Gets the correlation id property.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>Gets the reply-to property: where the outcome is published when set.</summary>
    public string? ReplyTo { get; init; }

    /// <summary>Gets the content type property.</summary>
    public string? ContentType { get; init; }

    /// <summary>Gets the message type property.</summary>
    public string? Type { get; init; }

    /// <summary>Gets the exchange the message was published to.</summary>
    public string Exchange { get; init; } = string.Empty;

    /// <summary>Gets the routing key it was published with.</summary>
    public string RoutingKey { get; init; } = string.Empty;

    /// <summary>Gets a value indicating whether the broker delivered it before (for example after a connection loss).</summary>
    public bool Redelivered { get; init; }

    /// <summary>Gets a copy of every property the message arrived with, kept when it is retried or dead-lettered.</summary>
    internal IReadOnlyBasicProperties? Properties { get; init; }

    /// <summary>Gets the delivery attempt (1 for the first; raised each time the message goes through the retry queue).</summary>
    public int Attempt => GetHeaderInt64(JobDedupHeaders.Attempt) is { } attempt and > 0 and < int.MaxValue ? (int)attempt : 1;

    /// <summary>Reads a header as text: UTF-8 bytes and strings as they are, numbers in invariant form.</summary>
    /// <param name="name">The header's name.</param>
    /// <returns>The text, or <see langword="null"/> when the header is absent or not a simple value.</returns>
    public string? GetHeader(string name) => Headers.TryGetValue(name, out var value) ? HeaderText(value) : null;

    internal static string? HeaderText(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        AmqpTimestamp stamp => stamp.UnixTime.ToString(System.Globalization.CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    internal long? GetHeaderInt64(string name) =>
        Headers.TryGetValue(name, out var value)
            ? value switch
            {
                long l => l,
                int i => i,
                short s => s,
                byte b => b,
                _ => long.TryParse(HeaderText(value), System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
            }
            : null;

    /// <summary>Copies what the consumer keeps of a delivery; the body belongs to the client only for the length of its callback.</summary>
    internal static RabbitMqMessage FromDelivery(in DeliveryFrame frame)
    {
        var properties = frame.Properties;
        IReadOnlyDictionary<string, object?>? headers = null;
        if (properties.Headers is { Count: > 0 } source)
        {
            headers = new Dictionary<string, object?>(source, StringComparer.Ordinal);
        }

        return new RabbitMqMessage(frame.Body.ToArray(), headers)
        {
            MessageId = properties.MessageId,
            CorrelationId = properties.CorrelationId,
            ReplyTo = properties.ReplyTo,
            ContentType = properties.ContentType,
            Type = properties.Type,
            Exchange = frame.Exchange,
            RoutingKey = frame.RoutingKey,
            Redelivered = frame.Redelivered,
            Properties = new BasicProperties(properties),
        };
    }
}
