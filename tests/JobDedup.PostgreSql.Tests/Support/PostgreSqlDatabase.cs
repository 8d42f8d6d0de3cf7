using Npgsql;

namespace JobDedup.PostgreSql.Tests.Support;

/// <summary>
/// The real PostgreSQL the tests run against: JOBDEDUP_POSTGRES, or the local one scripts/postgres.sh starts (the same
/// default connection string as <c>scripts/postgres.sh connection-string</c>). Without a database every test fails
/// with a message saying how to start one; none is skipped.
/// </summary>
public sealed class PostgreSqlDatabase : IAsyncLifetime
{
    public string ConnectionString { get; } = PostgreSqlFaults.ConnectionString;

    public async Task InitializeAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Timeout = 5 }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL answers at {Describe()} ({ex.Message}). Start one with: scripts/postgres.sh start " +
                "(or point JOBDEDUP_POSTGRES at a server with an Npgsql connection string).",
                ex);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A schema of its own for one test, dropped with everything in it when the test ends.</summary>
    public TestSchema NewSchema() => new(ConnectionString);

    private string Describe()
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
