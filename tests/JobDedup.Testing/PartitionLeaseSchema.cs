using Npgsql;

namespace JobDedup.Testing;

/// <summary>
/// A PostgreSQL schema of its own for one test's partition leases, on JOBDEDUP_POSTGRES or the local server that
/// scripts/postgres.sh starts; dropped at the end. Without a server the test fails saying how to start one.
/// </summary>
public sealed class PartitionLeaseSchema : IAsyncDisposable
{
    private PartitionLeaseSchema(string connectionString, string name)
    {
        ConnectionString = connectionString;
        Name = name;
    }

    public string ConnectionString { get; }

    public string Name { get; }

    public static async Task<PartitionLeaseSchema> CreateAsync()
    {
        var connectionString = PostgreSqlFaults.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 }.ConnectionString);
            await connection.OpenAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL answers for the partition leases ({ex.Message}). Start one with: scripts/postgres.sh start " +
                "(or point JOBDEDUP_POSTGRES at a server with an Npgsql connection string).",
                ex);
        }

        return new PartitionLeaseSchema(connectionString, "jdp_" + Guid.NewGuid().ToString("N")[..12]);
    }

    /// <summary>Puts lease options on this schema.</summary>
    public void Configure(PostgreSqlPartitionLeaseOptions options) => options.Schema = Name;

    /// <summary>The worker's settings of a pipeline's partition leases on this schema.</summary>
    public (string Name, string Value)[] WorkerSettings() => [("PartitionLeases__PostgreSql", ConnectionString), ("PartitionLeases__Schema", Name)];

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
