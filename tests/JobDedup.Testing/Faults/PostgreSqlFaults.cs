using Npgsql;

namespace JobDedup.Testing;

/// <summary>
/// The real PostgreSQL the tests use, and a way to reach it through a <see cref="TcpFaultProxy"/> with short timeouts,
/// so that a test can cut the link without touching the shared server.
/// </summary>
public static class PostgreSqlFaults
{
    /// <summary>
    /// Gets the connection string of the server: JOBDEDUP_POSTGRES, or the local one scripts/postgres.sh starts (the
    /// same default as <c>scripts/postgres.sh connection-string</c>).
    /// </summary>
    public static string ConnectionString { get; } = Resolve();

    /// <summary>Starts a proxy in front of the server that <paramref name="connectionString"/> names.</summary>
    public static TcpFaultProxy ProxyFor(string connectionString)
    {
        var direct = new NpgsqlConnectionStringBuilder(connectionString);
        return TcpFaultProxy.Start(direct.Host ?? "127.0.0.1", direct.Port);
    }

    /// <summary>
    /// Returns <paramref name="connectionString"/> pointed at the proxy, with timeouts of a few seconds, so that a call
    /// to a cut server fails quickly rather than hanging on.
    /// </summary>
    public static string ThroughProxy(string connectionString, TcpFaultProxy proxy) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = proxy.Host,
            Port = proxy.Port,
            Timeout = 2,
            CommandTimeout = 2,
            CancellationTimeout = 500,
        }.ConnectionString;

    private static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("JOBDEDUP_POSTGRES") is { Length: > 0 } configured)
        {
            return configured;
        }

        var user = Environment.GetEnvironmentVariable("PGUSER") is { Length: > 0 } pgUser ? pgUser : "postgres";
        var value = $"Host=127.0.0.1;Port=5432;Username={user};Database=jobdedup";
        if (Environment.GetEnvironmentVariable("PGPASSWORD") is { Length: > 0 } password)
        {
            value += $";Password={password}";
        }

        return value;
    }
}
