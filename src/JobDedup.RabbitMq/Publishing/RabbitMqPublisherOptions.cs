using System.Text.Json;

namespace JobDedup.RabbitMq;

/// <summary>Settings of an <see cref="IJobPublisher"/>.</summary>
public sealed class RabbitMqPublisherOptions : RabbitMqConnectionOptions
{
    /// <summary>Gets or sets the exchange messages go to.</summary>
    /// <value>The default is the default exchange (<c>""</c>), which routes by queue name.</value>
    public string Exchange { get; set; } = string.Empty;

    /// <summary>Gets or sets the routing key: with the default exchange, the consumer's work queue.</summary>
    /// <value>Required unless every publish sets its own.</value>
    public string? RoutingKey { get; set; }

    /// <summary>
    /// Gets or sets the work queue of a partitioned consumer (see <c>RabbitMqConsumerOptions.Partitions</c>): messages
    /// then go to its consistent-hash exchange <c>{PartitionedQueue}.partitions</c>, which routes each key to one
    /// partition. <see cref="Exchange"/> and <see cref="RoutingKey"/> are not used then.
    /// </summary>
    /// <value>The default is <see langword="null"/>: publish to <see cref="Exchange"/> with <see cref="RoutingKey"/>.</value>
    public string? PartitionedQueue { get; set; }

    /// <summary>Gets or sets the JSON settings for jobs.</summary>
    /// <value>The default is <see cref="JsonSerializerDefaults.Web"/> settings.</value>
    public JsonSerializerOptions JsonOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    /// <returns>The problems; empty when valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        ValidateConnection(errors);
        if (Exchange is null)
        {
            errors.Add($"{nameof(Exchange)} must not be null (use \"\" for the default exchange).");
        }

        if (JsonOptions is null)
        {
            errors.Add($"{nameof(JsonOptions)} must be set.");
        }

        return errors;
    }
}
