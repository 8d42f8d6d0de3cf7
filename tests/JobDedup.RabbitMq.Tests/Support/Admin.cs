using RabbitMQ.Client;

namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>A connection of the test's own, to change the topology under the consumer.</summary>
internal sealed class Admin : IAsyncDisposable
{
    private readonly IConnection _connection;

    private Admin(IConnection connection, IChannel channel)
    {
        _connection = connection;
        Channel = channel;
    }

    public IChannel Channel { get; }

    public static async Task<Admin> OpenAsync()
    {
        var connection = await new ConnectionFactory { Uri = new Uri(Broker.Uri), ClientProvidedName = "jobdedup-test-admin" }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new Admin(connection, channel);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.CloseAsync();
        _connection.Dispose();
    }
}
