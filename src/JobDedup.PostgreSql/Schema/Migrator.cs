using JobDedup.PostgreSql.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace JobDedup.PostgreSql.Schema;

/// <summary>
/// Brings an outcome table to the latest schema version, in one transaction. Every JobDedup migration in a database
/// takes the same transaction-level advisory lock first, so two processes starting at once run it one after the other:
/// the second finds the version recorded and does nothing. Objects are only created when missing, so a role without
/// CREATE rights can run against a database that is already migrated.
/// </summary>
internal static class Migrator
{
    /// <summary>"JobDedup" in ASCII: the advisory lock key every JobDedup migration takes.</summary>
    public const long LockKey = 0x4A6F_6244_6564_7570;

    /// <summary>The migrations, in order. A version, once shipped, never changes: add a new one instead.</summary>
    private static readonly Migration[] Migrations =
    [
        new(1, "outcome table, fencing sequence and expiry index", static sql => $"""
            CREATE SEQUENCE IF NOT EXISTS {sql.Sequence} AS bigint;
            CREATE TABLE IF NOT EXISTS {sql.QualifiedTable} (
                scope            text        NOT NULL,
                key              text        NOT NULL,
                status           text        NOT NULL CHECK (status IN ('{StoreSql.Claimed}', '{StoreSql.Completed}')),
                owner            text,
                lease_expires_at timestamptz,
                fencing_token    bigint      NOT NULL,
                outcome          bytea,
                attempts         integer     NOT NULL DEFAULT 0,
                completed_at     timestamptz,
                expires_at       timestamptz NOT NULL,
                PRIMARY KEY (scope, key)
            );
            CREATE INDEX IF NOT EXISTS {StoreSql.Quote(sql.Table + "_expires_at")} ON {sql.QualifiedTable} (expires_at);
            """),

        // A btree row holds at most about 2.7 KB, and text cannot hold NUL: rows are found by the SHA-256 of the key's
        // UTF-8 bytes, and the key column only shows the key (NUL written as \u0000).
        new(2, "rows keyed by the SHA-256 of the key", static sql => $"""
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN key_digest bytea;
            UPDATE {sql.QualifiedTable} SET key_digest = sha256(convert_to(key, 'UTF8'));
            ALTER TABLE {sql.QualifiedTable} ALTER COLUMN key_digest SET NOT NULL;
            DO $migrate$
            DECLARE primary_key name;
            BEGIN
                SELECT conname INTO primary_key FROM pg_catalog.pg_constraint
                 WHERE conrelid = '{sql.QualifiedTable}'::regclass AND contype = 'p';
                EXECUTE format('ALTER TABLE {sql.QualifiedTable} DROP CONSTRAINT %I', primary_key);
            END
            $migrate$;
            ALTER TABLE {sql.QualifiedTable} ADD CONSTRAINT {StoreSql.Quote(sql.Table + "_pkey")} PRIMARY KEY (scope, key_digest);
            """),

        // Each store instance holds a session-level advisory lock while it lives; a claim records its instance, so that
        // a claim whose instance is gone can be taken over before its lease ends, and who a takeover replaced.
        new(3, "claim owner instances and takeovers", static sql => $"""
            CREATE SEQUENCE IF NOT EXISTS {sql.InstanceSequence} AS integer MINVALUE 1 CYCLE;
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN IF NOT EXISTS owner_instance integer;
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN IF NOT EXISTS taken_over_from text;
            """),

        // A claim keeps its job's payload fingerprint (so that a caller who finds the key busy can compare), and so does
        // the outcome that ends it; a kept failure has no value, only what it failed with. Earlier rows read as having
        // neither.
        new(4, "payload fingerprints and kept failures", static sql => $"""
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN IF NOT EXISTS fingerprint text;
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN IF NOT EXISTS failure_type text;
            ALTER TABLE {sql.QualifiedTable} ADD COLUMN IF NOT EXISTS failure_message text;
            """),
    ];

    /// <summary>Gets the version the latest migration brings a table to.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies the migrations the table has not had yet; returns how many ran.</summary>
    public static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, StoreSql sql, ILogger logger, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(@lock)", cancellationToken, ("lock", LockKey)).ConfigureAwait(false);

                if (!await ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @schema)", cancellationToken, ("schema", sql.Schema)).ConfigureAwait(false))
                {
                    await ExecuteAsync(connection, $"CREATE SCHEMA {StoreSql.Quote(sql.Schema)}", cancellationToken).ConfigureAwait(false);
                }

                if (!await ScalarAsync<bool>(connection, "SELECT to_regclass(@name) IS NOT NULL", cancellationToken, ("name", sql.VersionTable)).ConfigureAwait(false))
                {
                    await ExecuteAsync(
                        connection,
                        $"""
                        CREATE TABLE {sql.VersionTable} (
                            table_name  text        NOT NULL,
                            version     integer     NOT NULL,
                            description text        NOT NULL,
                            applied_at  timestamptz NOT NULL DEFAULT now(),
                            PRIMARY KEY (table_name, version)
                        )
                        """,
                        cancellationToken).ConfigureAwait(false);
                }

                var current = await ScalarAsync<int>(
                    connection,
                    $"SELECT coalesce(max(version), 0) FROM {sql.VersionTable} WHERE table_name = @table",
                    cancellationToken,
                    ("table", sql.Table)).ConfigureAwait(false);

                var applied = 0;
                foreach (var migration in Migrations)
                {
                    if (migration.Version <= current)
                    {
                        continue;
                    }

                    await ExecuteAsync(connection, migration.Sql(sql), cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(
                        connection,
                        $"INSERT INTO {sql.VersionTable} (table_name, version, description) VALUES (@table, @version, @description)",
                        cancellationToken,
                        ("table", sql.Table),
                        ("version", migration.Version),
                        ("description", migration.Description)).ConfigureAwait(false);
                    applied++;
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (applied > 0)
                {
                    Log.Migrated(logger, sql.Channel, current, LatestVersion);
                }

                return applied;
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string text, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var command = Command(connection, text, parameters);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string text, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var command = Command(connection, text, parameters);
        await using (command.ConfigureAwait(false))
        {
            return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string text, (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(text, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private sealed record Migration(int Version, string Description, Func<StoreSql, string> Sql);
}
