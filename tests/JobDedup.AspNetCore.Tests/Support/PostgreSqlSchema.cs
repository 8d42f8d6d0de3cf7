using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace JobDedup.AspNetCore.Tests.Support;

/// <summary>
/// A schema of the real PostgreSQL (JOBDEDUP_POSTGRES, or the one scripts/postgres.sh starts) that one test owns; the
/// store's migration creates it, and it is dropped with everything in it at the end. Without a server the test fails
/// saying how to start one.
/// </summary>
public sealed class PostgreSqlSchema : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgreSqlSchema(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public string ConnectionString { get; } = PostgreSqlFaults.ConnectionString;

    public string Name { get; } = "jda_" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<PostgreSqlSchema> CreateAsync()
    {
        var dataSource = NpgsqlDataSource.Create(PostgreSqlFaults.ConnectionString);
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync();
        }
        catch (Exception ex)
        {
            await dataSource.DisposeAsync();
            throw new InvalidOperationException(
                $"No PostgreSQL answers ({ex.Message}). Start one with: scripts/postgres.sh start (or point JOBDEDUP_POSTGRES at a server).", ex);
        }

        return new PostgreSqlSchema(dataSource);
    }

    /// <summary>Keeps the idempotency deduplicator's outcomes in this schema, background cleanup off.</summary>
    public void Use(JobDedupBuilder<IdempotentRequest, IdempotentResponse> builder) => Use(builder, ConnectionString);

    /// <summary>Keeps the outcomes in this schema, reached through <paramref name="connectionString"/> (a fault proxy, say).</summary>
    public void Use(JobDedupBuilder<IdempotentRequest, IdempotentResponse> builder, string connectionString) =>
        builder.UsePostgreSqlOutcomeStore(connectionString, o =>
        {
            o.Schema = Name;
            o.Table = "outcomes";
            o.CleanupInterval = TimeSpan.Zero;
        });

    public async Task<long> CountAsync()
    {
        await using var command = _dataSource.CreateCommand($"SELECT count(*) FROM \"{Name}\".\"outcomes\"");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE");
            await command.ExecuteNonQueryAsync();
        }
        finally
        {
            await _dataSource.DisposeAsync();
        }
    }
}
