namespace JobDedup.RabbitMq;

/// <summary>Per-message settings of a publish.</summary>
public sealed class JobPublishProperties
{
    /// <summary>Gets or sets the message id; the dedupe key when omitted.</summary>
    public string? MessageId { get; set; }

    /// <summary>Gets or sets the correlation id, echoed on the reply.</summary>
    public string? CorrelationId { get; set; }

    /// <summary>Gets or sets the queue the consumer publishes the outcome to.</summary>
    public string? ReplyTo { get; set; }

    /// <summary>Gets or sets the content type; <c>application/json</c> for jobs serialized by the publisher.</summary>
    public string? ContentType { get; set; }

    /// <summary>Gets or sets the routing key; the publisher's <see cref="RabbitMqPublisherOptions.RoutingKey"/> when omitted.</summary>
    public string? RoutingKey { get; set; }

    /// <summary>Gets extra headers to send.</summary>
    public IDictionary<string, object?> Headers { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);
}
