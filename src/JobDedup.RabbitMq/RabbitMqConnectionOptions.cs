using RabbitMQ.Client;

namespace JobDedup.RabbitMq;

/// <summary>How to reach the broker; shared by the consumer and the publisher.</summary>
public class RabbitMqConnectionOptions
{
    /// <summary>The largest message RabbitMQ accepts by default (its max_message_size), so larger ones are never read.</summary>
    internal const int BrokerMaxMessageBytes = 128 * 1024 * 1024;

    /// <summary>Gets or sets the broker address, <c>amqp://user:password@host:port/vhost</c>; <c>amqps://</c> turns TLS on.</summary>
    /// <value>The default is <c>amqp://guest:guest@127.0.0.1:5672/</c>.</value>
    public string ConnectionUri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Gets or sets the name the connection shows in the broker's management tools.</summary>
    /// <value>The default is <see langword="null"/>: <c>jobdedup:</c> followed by the deduplicator's name.</value>
    public string? ConnectionName { get; set; }

    /// <summary>Gets or sets how long the client waits between attempts to reconnect after losing the broker.</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    internal void ValidateConnection(List<string> errors)
    {
        if (!Uri.TryCreate(ConnectionUri, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            errors.Add($"{nameof(ConnectionUri)} must be an amqp:// or amqps:// address, not '{Redact(ConnectionUri)}'.");
        }

        if (RecoveryInterval <= TimeSpan.Zero || RecoveryInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{nameof(RecoveryInterval)} must be more than 0 and at most 10 minutes, not {RecoveryInterval}.");
        }
    }

    internal ConnectionFactory CreateConnectionFactory(string defaultName, string suffix = "") => new()
    {
        Uri = new Uri(ConnectionUri),
        ClientProvidedName = (ConnectionName ?? $"jobdedup:{defaultName}") + suffix,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = RecoveryInterval,
        MaxInboundMessageBodySize = BrokerMaxMessageBytes,
    };

    /// <summary>The address without its password, for messages and logs.</summary>
    internal string RedactedUri => Redact(ConnectionUri);

    private static string Redact(string? uri)
    {
        if (uri is null || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || string.IsNullOrEmpty(parsed.UserInfo))
        {
            return uri ?? string.Empty;
        }

        var user = parsed.UserInfo.Split(':')[0];
        return new UriBuilder(parsed) { UserName = user, Password = "***" }.Uri.ToString();
    }
}
