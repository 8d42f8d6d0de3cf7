using JobDedup.RabbitMq.Connections;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace JobDedup.RabbitMq;

/// <summary>
/// How to reach the broker; shared by the consumer and the publisher. Registered with
/// <c>services.AddJobDedupRabbitMq(o =&gt; …)</c>, these are the broker settings every consumer and publisher of the
/// container uses unless its own options set them.
/// </summary>
public class RabbitMqConnectionOptions
{
    /// <summary>The largest message RabbitMQ accepts by default (its max_message_size), so larger ones are never read.</summary>
    internal const int BrokerMaxMessageBytes = 128 * 1024 * 1024;

    private const string DefaultUri = "amqp://guest:guest@127.0.0.1:5672/";

    private static readonly TimeSpan DefaultRecoveryInterval = TimeSpan.FromSeconds(5);

    private string? _connectionUri;
    private TimeSpan? _recoveryInterval;
    private Func<IServiceProvider, IConnection>? _connection;
    private Func<IServiceProvider, IConnectionFactory>? _connectionFactory;

    /// <summary>Gets or sets the broker address, <c>amqp://user:password@host:port/vhost</c>; <c>amqps://</c> turns TLS on.</summary>
    /// <value>
    /// The default is the shared broker settings' address (<c>AddJobDedupRabbitMq</c>) when they set one, else
    /// <c>amqp://guest:guest@127.0.0.1:5672/</c>. Not used with <see cref="UseConnection()"/> or <see cref="UseConnectionFactory()"/>.
    /// </value>
    public string ConnectionUri
    {
        get => _connectionUri ?? DefaultUri;
        set => _connectionUri = value;
    }

    /// <summary>Gets or sets the name the connection shows in the broker's management tools.</summary>
    /// <value>
    /// The default is the shared broker settings' name when they set one, else <c>jobdedup:</c> followed by the
    /// deduplicator's name. Not used with <see cref="UseConnection()"/>.
    /// </value>
    public string? ConnectionName { get; set; }

    /// <summary>Gets or sets how long the client waits between attempts to reconnect after losing the broker.</summary>
    /// <value>
    /// The default is the shared broker settings' interval when they set one, else 5 seconds. Not used with
    /// <see cref="UseConnection()"/> or <see cref="UseConnectionFactory()"/>, whose recovery is as the application set it up.
    /// </value>
    public TimeSpan RecoveryInterval
    {
        get => _recoveryInterval ?? DefaultRecoveryInterval;
        set => _recoveryInterval = value;
    }

    /// <summary>Gets the address without its password, for messages and logs.</summary>
    internal string RedactedUri => Redact(ConnectionUri);

    /// <summary>
    /// Opens channels on the <see cref="IConnection"/> registered in the service container (such as the one
    /// Aspire.RabbitMQ.Client registers) instead of connecting with <see cref="ConnectionUri"/>. That connection is
    /// borrowed: our channels on it are closed when we stop, the connection itself is never closed by us, and its
    /// recovery after a loss is the client's automatic recovery as its owner set it up. Only with the service container
    /// (<c>AddRabbitMqConsumer</c>, <c>AddJobPublisher</c>, <c>AddJobDedupRabbitMq</c>).
    /// </summary>
    public void UseConnection() => UseConnection(static services => services.GetRequiredService<IConnection>());

    /// <summary>
    /// Opens channels on the connection <paramref name="connection"/> returns, like <see cref="UseConnection()"/>; it is
    /// asked once, when the connection is first needed.
    /// </summary>
    /// <param name="connection">Returns the connection, given the service provider.</param>
    public void UseConnection(Func<IServiceProvider, IConnection> connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _connectionFactory = null;
    }

    /// <summary>
    /// Connects with the <see cref="IConnectionFactory"/> registered in the service container instead of
    /// <see cref="ConnectionUri"/>: its address, credentials and recovery settings apply. The connections it creates for
    /// us are ours, closed when we stop. Only with the service container.
    /// </summary>
    public void UseConnectionFactory() => UseConnectionFactory(static services => services.GetRequiredService<IConnectionFactory>());

    /// <summary>Connects with the factory <paramref name="factory"/> returns, like <see cref="UseConnectionFactory()"/>.</summary>
    /// <param name="factory">Returns the factory, given the service provider.</param>
    public void UseConnectionFactory(Func<IServiceProvider, IConnectionFactory> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _connectionFactory = factory;
        _connection = null;
    }

    /// <summary>Takes every setting these options leave unset from the shared broker settings.</summary>
    internal void InheritFrom(RabbitMqConnectionOptions shared)
    {
        if (_connection is null && _connectionFactory is null)
        {
            // An address of our own overrides a shared connection, as it would a shared address.
            if (_connectionUri is null)
            {
                _connection = shared._connection;
                _connectionFactory = shared._connectionFactory;
            }

            _connectionUri ??= shared._connectionUri;
        }

        ConnectionName ??= shared.ConnectionName;
        _recoveryInterval ??= shared._recoveryInterval;
    }

    internal void ValidateConnection(List<string> errors)
    {
        if (_connection is not null || _connectionFactory is not null)
        {
            return;
        }

        if (!Uri.TryCreate(ConnectionUri, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            errors.Add($"{nameof(ConnectionUri)} must be an amqp:// or amqps:// address, not '{Redact(ConnectionUri)}'.");
        }

        if (RecoveryInterval <= TimeSpan.Zero || RecoveryInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{nameof(RecoveryInterval)} must be more than 0 and at most 10 minutes, not {RecoveryInterval}.");
        }
    }

    /// <summary>Where the connections come from: the injected connection or factory, else a factory of our own.</summary>
    /// <param name="services">The container, for an injected connection or factory; null outside one.</param>
    /// <param name="defaultName">The connection's name unless <see cref="ConnectionName"/> is set.</param>
    /// <param name="suffix">Added to the name, to tell a consumer's second connection apart.</param>
    internal ConnectionSource CreateSource(IServiceProvider? services, string defaultName, string suffix = "")
    {
        var name = (ConnectionName ?? $"jobdedup:{defaultName}") + suffix;
        if (_connection is { } connection)
        {
            var provider = services ?? throw new InvalidOperationException(NeedsContainer(nameof(UseConnection)));
            return ConnectionSource.Borrowed(() => connection(provider));
        }

        if (_connectionFactory is { } factory)
        {
            var provider = services ?? throw new InvalidOperationException(NeedsContainer(nameof(UseConnectionFactory)));
            return ConnectionSource.FromFactory(() => factory(provider), name);
        }

        return ConnectionSource.Own(
            new ConnectionFactory
            {
                Uri = new Uri(ConnectionUri),
                ClientProvidedName = name,
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = RecoveryInterval,
                MaxInboundMessageBodySize = BrokerMaxMessageBytes,
            },
            RedactedUri);
    }

    private static string NeedsContainer(string method) =>
        $"{method} takes the connection from the service container: register the consumer with AddRabbitMqConsumer, or the publisher with AddJobPublisher.";

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
