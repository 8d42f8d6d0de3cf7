using RabbitMQ.Client;

namespace JobDedup.Testing;

/// <summary>
/// The real broker the tests run against: JOBDEDUP_RABBITMQ_URI, or the local one scripts/rabbitmq.sh starts.
/// Without a broker every test fails with a message saying how to start one; none is skipped.
/// </summary>
public sealed class Broker : IAsyncLifetime
{
    public static string Uri => Environment.GetEnvironmentVariable("JOBDEDUP_RABBITMQ_URI") is { Length: > 0 } uri
        ? uri
        : "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Gets the connection that proved the broker answers.</summary>
    public IConnection Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            Connection = await new ConnectionFactory { Uri = new System.Uri(Uri), ClientProvidedName = "jobdedup-tests", AutomaticRecoveryEnabled = false }.CreateConnectionAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No RabbitMQ broker answers at {Uri} ({ex.Message}). Start one with: scripts/rabbitmq.sh start " +
                "(or point JOBDEDUP_RABBITMQ_URI at a broker).",
                ex);
        }
    }

    public Task DisposeAsync()
    {
        // The broker may have closed it (one test closes every connection): dispose without a close handshake.
        Connection?.Dispose();
        return Task.CompletedTask;
    }
}
