using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Connections;

/// <summary>
/// Where a consumer or publisher gets its connection: a factory of its own, a factory the application gave, or a
/// connection the application gave. A connection created here is ours to close; one given by the application is only
/// borrowed: channels are opened on it and closed by us, and the connection itself (its close, its recovery) stays the
/// application's.
/// </summary>
internal sealed class ConnectionSource
{
    private readonly Func<CancellationToken, Task<IConnection>> _open;

    private readonly Func<string?> _user;

    private ConnectionSource(Func<CancellationToken, Task<IConnection>> open, bool ownsConnections, string broker, string setting, Func<string?> user)
    {
        _open = open;
        _user = user;
        OwnsConnections = ownsConnections;
        Broker = broker;
        Setting = setting;
    }

    /// <summary>Gets a value indicating whether the connections opened here are ours to close and dispose.</summary>
    public bool OwnsConnections { get; }

    /// <summary>Gets the broker, as messages and logs show it (never with a password).</summary>
    public string Broker { get; }

    /// <summary>Gets the setting that says where the broker is and who connects, for messages that ask to check it.</summary>
    public string Setting { get; }

    /// <summary>Gets the user that connects, when known.</summary>
    public string? User => _user();

    /// <summary>A factory of our own, built from the options' address.</summary>
    public static ConnectionSource Own(ConnectionFactory factory, string redactedUri) =>
        new(factory.CreateConnectionAsync, ownsConnections: true, redactedUri, $"the option {nameof(RabbitMqConnectionOptions.ConnectionUri)}", () => factory.UserName);

    /// <summary>A factory the application gave: the connections it creates for us are ours to close.</summary>
    public static ConnectionSource FromFactory(Func<IConnectionFactory> factory, string clientProvidedName)
    {
        IConnectionFactory? resolved = null;
        var source = new ConnectionSource(
            ct =>
            {
                resolved ??= factory();
                return resolved.CreateConnectionAsync(clientProvidedName, ct);
            },
            ownsConnections: true,
            "the broker of the connection factory given to UseConnectionFactory",
            "the connection factory given to UseConnectionFactory (its Uri, UserName and Password)",
            () => resolved?.UserName);
        return source;
    }

    /// <summary>A connection the application gave (resolved on first use): borrowed, never closed by us.</summary>
    public static ConnectionSource Borrowed(Func<IConnection> connection) =>
        new(
            _ => Task.FromResult(connection()),
            ownsConnections: false,
            "the broker of the connection given to UseConnection",
            "the connection given to UseConnection",
            static () => null);

    /// <summary>Opens a connection (or returns the borrowed one).</summary>
    public Task<IConnection> OpenAsync(CancellationToken cancellationToken) => _open(cancellationToken);

    /// <summary>Closes and disposes a connection opened here, if it is ours; a borrowed one is left as it is.</summary>
    public async Task ReleaseAsync(IConnection connection, TimeSpan closeTimeout, Action<Exception> onCloseFailed)
    {
        if (!OwnsConnections)
        {
            return;
        }

        try
        {
            await connection.CloseAsync(closeTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            onCloseFailed(ex);
        }

        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
