using System.Text.Json;
using Npgsql;

namespace JobDedup.HttpBench.Server;

/// <summary>
/// The same guard on PostgreSQL, as a user writes it with a table of answers: SELECT the key; if there is no row, run
/// the handler, then INSERT its answer (ON CONFLICT DO NOTHING, so the second writer does not fail). The table lives in
/// a schema of its own, dropped at the end.
/// </summary>
internal sealed class PostgresGuard(NpgsqlDataSource database, string schema, ChargeWork work)
{
    /// <summary>Creates the schema and the table.</summary>
    public async Task CreateAsync()
    {
        await using var command = database.CreateCommand(
            $"CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {schema}.answers (key text PRIMARY KEY, answer jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now())");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Drops the schema and everything in it.</summary>
    public async Task DropAsync()
    {
        await using var command = database.CreateCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Answers a request: the stored answer for a key seen before, otherwise a new charge, then stored.</summary>
    public async Task<ChargeAnswer> HandleAsync(string key, ChargeRequest request, CancellationToken cancellationToken)
    {
        await using (var select = database.CreateCommand($"SELECT answer FROM {schema}.answers WHERE key = $1"))
        {
            select.Parameters.Add(new() { Value = key });
            if (await select.ExecuteScalarAsync(cancellationToken) is string stored)
            {
                return JsonSerializer.Deserialize<ChargeAnswer>(stored, JsonSerializerOptions.Web)!;
            }
        }

        var answer = await work.ChargeAsync(key, request, cancellationToken);
        await using var insert = database.CreateCommand($"INSERT INTO {schema}.answers (key, answer) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING");
        insert.Parameters.Add(new() { Value = key });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(answer, JsonSerializerOptions.Web) });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return answer;
    }
}
