using Npgsql;

namespace JobDedup.PostgreSql.Tests.Support;

/// <summary>A schema that one test owns (the store's migration creates it); dropped, with every table in it, at the end.</summary>
public sealed class TestSchema : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public TestSchema(string connectionString)
    {
        ConnectionString = connectionString;
        Name = "jdt_" + Guid.NewGuid().ToString("N")[..12];
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public string Name { get; }

    public string Table { get; } = "outcomes";

    public string QualifiedTable => $"\"{Name}\".\"{Table}\"";

    /// <summary>Options for a store on this schema; background cleanup off unless a test turns it on.</summary>
    public PostgreSqlOutcomeStoreOptions Options(Action<PostgreSqlOutcomeStoreOptions>? configure = null)
    {
        var options = new PostgreSqlOutcomeStoreOptions
        {
            ConnectionString = ConnectionString,
            Schema = Name,
            Table = Table,
            CleanupInterval = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Partition lease options on this schema, with short timings: a heartbeat of 100 ms, a member timeout of 2 s.</summary>
    public PostgreSqlPartitionLeaseOptions PartitionLeaseOptions() => new()
    {
        ConnectionString = ConnectionString,
        Schema = Name,
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        MemberTimeout = TimeSpan.FromSeconds(2),
    };

    public PostgreSqlOutcomeStore<string> Store(Action<PostgreSqlOutcomeStoreOptions>? configure = null) => new(Options(configure));

    /// <summary>The first column of the first row, read as <typeparamref name="T"/> (default when there is none).</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() && !reader.IsDBNull(0) ? reader.GetFieldValue<T>(0) : default!;
    }

    public async Task<int> ExecuteAsync(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return await command.ExecuteNonQueryAsync();
    }

    public Task<long> CountAsync(string where = "true") => ScalarAsync<long>($"SELECT count(*) FROM {QualifiedTable} WHERE {where}");

    public Task<DateTimeOffset> DatabaseNowAsync() => ScalarAsync<DateTimeOffset>("SELECT now()");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteAsync($"DROP SCHEMA IF EXISTS \"{Name}\" CASCADE");
        }
        finally
        {
            await _dataSource.DisposeAsync();
        }
    }
}
