using System.Globalization;
using System.Text.Json;
using JobDedup.RabbitMq;
using RabbitMQ.Client;

namespace JobDedup.Worker.Cli;

/// <summary>One message read from a dead-letter queue and held (unacknowledged) by the tool, with what its headers say.</summary>
internal sealed class DeadLetter
{
    /// <summary>Initializes a new instance of the <see cref="DeadLetter"/> class.</summary>
    /// <param name="index">Its position in the queue, 1 for the head.</param>
    /// <param name="deliveryTag">The tag the broker gave this read, to acknowledge or return it.</param>
    /// <param name="properties">The message's properties, headers included.</param>
    /// <param name="body">A copy of the body.</param>
    /// <param name="keyRule">How the work queue's pipeline reads a key.</param>
    public DeadLetter(int index, ulong deliveryTag, IReadOnlyBasicProperties properties, byte[] body, RabbitMqKeyRule keyRule)
    {
        Index = index;
        DeliveryTag = deliveryTag;
        Properties = properties;
        Body = body;
        IReadOnlyDictionary<string, object?>? headers = properties.Headers is { } h ? new Dictionary<string, object?>(h, StringComparer.Ordinal) : null;
        Message = new RabbitMqMessage(body, headers) { MessageId = properties.MessageId, ContentType = properties.ContentType, Type = properties.Type };
        Key = ReadKey(Message, keyRule);
    }

    /// <summary>Gets the message's position in the queue, 1 for the head.</summary>
    public int Index { get; }

    /// <summary>Gets the delivery tag of this read.</summary>
    public ulong DeliveryTag { get; }

    /// <summary>Gets the message's properties.</summary>
    public IReadOnlyBasicProperties Properties { get; }

    /// <summary>Gets the body.</summary>
    public byte[] Body { get; }

    /// <summary>Gets the message as the consumer sees it (headers as text).</summary>
    public RabbitMqMessage Message { get; }

    /// <summary>Gets the dedupe key the work queue's rule reads, or <see langword="null"/> when it finds none.</summary>
    public string? Key { get; }

    /// <summary>Gets why the consumer dead-lettered it (see <see cref="DeadLetterReasons"/>).</summary>
    public string? Reason => Message.GetHeader(JobDedupHeaders.Reason);

    /// <summary>Gets the delivery attempts the message had when it was dead-lettered.</summary>
    public int Attempts => Message.Attempt;

    /// <summary>Gets the queue it came from, as the consumer wrote it.</summary>
    public string? SourceQueue => Message.GetHeader(JobDedupHeaders.SourceQueue);

    /// <summary>Gets the exception's type and message, when a handler failed.</summary>
    public string? Error => Message.GetHeader(JobDedupHeaders.ExceptionType) is { Length: > 0 } type
        ? $"{type}: {Message.GetHeader(JobDedupHeaders.ExceptionMessage)}"
        : Message.GetHeader(JobDedupHeaders.ExceptionMessage) is { Length: > 0 } detail ? detail : null;

    /// <summary>Gets when the consumer first saw the message, else when it was published, if either is known.</summary>
    public DateTimeOffset? FirstSeen =>
        long.TryParse(Message.GetHeader(JobDedupHeaders.FirstSeen), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : Properties.IsTimestampPresent() && Properties.Timestamp.UnixTime > 0
                ? DateTimeOffset.FromUnixTimeSeconds(Properties.Timestamp.UnixTime)
                : null;

    /// <summary>Tells whether <paramref name="selector"/> (a position from <c>list</c>, or a message id) names this message.</summary>
    public bool IsNamedBy(string selector) =>
        int.TryParse(selector, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index == Index
            : string.Equals(selector, Properties.MessageId, StringComparison.Ordinal);

    private static string? ReadKey(RabbitMqMessage message, RabbitMqKeyRule rule)
    {
        try
        {
            return rule.Extract(message);
        }
        catch (Exception ex) when (ex is InvalidKeyException or JsonException or ArgumentException or InvalidOperationException)
        {
            // A message dead-lettered for its key or body has none to show; it is still listed.
            return null;
        }
    }
}
