using Npgsql;

namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>
/// The real PostgreSQL (JOBDEDUP_POSTGRES, or the local one scripts/postgres.sh starts) reached through a
/// <see cref="TcpFaultProxy"/>, with a schema of its own that is dropped at the end. The test cuts the proxy, never the
/// shared server. Fails, saying how to start one, when no server answers.
/// </summary>
public sealed class PostgreSqlBehindProxy : IAsyncDisposable
{
    private readonly string _direct;

    private PostgreSqlBehindProxy(string direct, TcpFaultProxy proxy)
    {
        _direct = direct;
        Proxy = proxy;
        Schema = "jdo_" + Guid.NewGuid().ToString("N")[..12];

        ConnectionString = PostgreSqlFaults.ThroughProxy(direct, proxy);
    }

    public TcpFaultProxy Proxy { get; }

    /// <summary>Gets the connection string through the proxy.</summary>
    public string ConnectionString { get; }

    public string Schema { get; }

    public static async Task<PostgreSqlBehindProxy> StartAsync()
    {
        var direct = PostgreSqlFaults.ConnectionString;
        var builder = new NpgsqlConnectionStringBuilder(direct);
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(direct) { Timeout = 5 }.ConnectionString);
            await connection.OpenAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL answers at {builder.Host}:{builder.Port}/{builder.Database} ({ex.Message}). Start one with: " +
                "scripts/postgres.sh start (or point JOBDEDUP_POSTGRES at a server with an Npgsql connection string).",
                ex);
        }

        return new PostgreSqlBehindProxy(direct, PostgreSqlFaults.ProxyFor(direct));
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await using var connection = new NpgsqlConnection(_direct);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
