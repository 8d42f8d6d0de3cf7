namespace JobDedup.PostgreSql.Schema;

/// <summary>
/// The statements of one store, built once from its (validated) schema and table names. Every time comparison uses the
/// database's clock, <c>now()</c>, so that instances whose clocks disagree still agree on leases and expiry.
/// </summary>
internal sealed class StoreSql
{
    public const string Claimed = "claimed";
    public const string Completed = "completed";

    public StoreSql(string schema, string table)
    {
        Schema = schema;
        Table = table;
        QualifiedTable = $"{Quote(schema)}.{Quote(table)}";
        Sequence = $"{Quote(schema)}.{Quote(table + "_fencing")}";
        VersionTable = $"{Quote(schema)}.{Quote(VersionTableName)}";
        Channel = $"{schema}.{table}";
        var t = QualifiedTable;

        // Free keys are inserted; a key whose claim's lease lapsed, or whose kept outcome expired, is taken over; a
        // live claim or a live outcome is left alone and nothing is returned. The token comes from a sequence, so a
        // takeover always holds a larger token than every earlier claim on the key (the WHERE makes sure of it).
        Claim = $"""
            INSERT INTO {t} AS o (scope, key, status, owner, lease_expires_at, fencing_token, attempts, expires_at)
            VALUES (@scope, @key, '{Claimed}', @owner, now() + @lease, nextval('{Sequence}'), 0, now() + @lease + @keep)
            ON CONFLICT (scope, key) DO UPDATE
               SET status = '{Claimed}', owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at,
                   fencing_token = EXCLUDED.fencing_token, outcome = NULL, attempts = 0, completed_at = NULL,
                   expires_at = EXCLUDED.expires_at
             WHERE o.fencing_token < EXCLUDED.fencing_token
               AND CASE o.status WHEN '{Claimed}' THEN o.lease_expires_at <= now() ELSE o.expires_at <= now() END
            RETURNING o.fencing_token
            """;

        // What holds a key now: a live outcome (with its value), a live claim (with its lease), or neither.
        Inspect = $"""
            SELECT status = '{Completed}' AND expires_at > now() AS kept,
                   status = '{Claimed}' AND lease_expires_at > now() AS held,
                   lease_expires_at,
                   lease_expires_at - now() AS lease_left,
                   CASE WHEN status = '{Completed}' AND expires_at > now() THEN outcome END AS outcome,
                   attempts,
                   completed_at
              FROM {t}
             WHERE scope = @scope AND key = @key
            """;

        Renew = $"""
            UPDATE {t}
               SET lease_expires_at = now() + @lease, expires_at = now() + @lease + @keep
             WHERE scope = @scope AND key = @key AND fencing_token = @token AND status = '{Claimed}'
            """;

        // The notification is sent only if the row changed (one per row of the CTE), and delivered at commit.
        Complete = $"""
            WITH done AS (
                UPDATE {t}
                   SET status = '{Completed}', lease_expires_at = NULL, outcome = @outcome, attempts = @attempts,
                       completed_at = @completed_at, expires_at = now() + @retention
                 WHERE scope = @scope AND key = @key AND fencing_token = @token AND status = '{Claimed}'
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM done
            """;

        Release = $"""
            WITH gone AS (
                DELETE FROM {t}
                 WHERE scope = @scope AND key = @key AND fencing_token = @token AND status = '{Claimed}'
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM gone
            """;

        TryGet = $"""
            SELECT outcome, attempts, completed_at
              FROM {t}
             WHERE scope = @scope AND key = @key AND status = '{Completed}' AND expires_at > now()
            """;

        // A plain save replaces whatever holds the key, with a new token: a claim holder's later write is refused.
        Save = $"""
            WITH kept AS (
                INSERT INTO {t} AS o (scope, key, status, owner, lease_expires_at, fencing_token, outcome, attempts, completed_at, expires_at)
                VALUES (@scope, @key, '{Completed}', NULL, NULL, nextval('{Sequence}'), @outcome, @attempts, @completed_at, now() + @retention)
                ON CONFLICT (scope, key) DO UPDATE
                   SET status = '{Completed}', owner = NULL, lease_expires_at = NULL, fencing_token = EXCLUDED.fencing_token,
                       outcome = EXCLUDED.outcome, attempts = EXCLUDED.attempts, completed_at = EXCLUDED.completed_at,
                       expires_at = EXCLUDED.expires_at
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM kept
            """;

        Remove = $"""
            WITH gone AS (DELETE FROM {t} WHERE scope = @scope AND key = @key RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM gone
            """;

        // Data-modifying CTEs always run to completion: every row of the scope goes, and one notification is sent.
        Clear = $"""
            WITH gone AS (DELETE FROM {t} WHERE scope = @scope RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM gone LIMIT 1
            """;

        // One batch: the oldest expired rows, skipping rows another session holds (a claim taking an expired key over).
        CleanupBatch = $"""
            DELETE FROM {t}
             WHERE (scope, key) IN (SELECT scope, key
                                      FROM {t}
                                     WHERE expires_at <= now()
                                     ORDER BY expires_at
                                     LIMIT @batch
                                       FOR UPDATE SKIP LOCKED)
               AND expires_at <= now()
            """;

        Listen = $"LISTEN {Quote(Channel)}";
    }

    /// <summary>Gets the name of the table that records which migrations ran on which outcome table of a schema.</summary>
    public static string VersionTableName => "jobdedup_schema_versions";

    public string Schema { get; }

    public string Table { get; }

    public string QualifiedTable { get; }

    public string Sequence { get; }

    public string VersionTable { get; }

    /// <summary>Gets the notification channel: <c>{schema}.{table}</c>.</summary>
    public string Channel { get; }

    public string Claim { get; }

    public string Inspect { get; }

    public string Renew { get; }

    public string Complete { get; }

    public string Release { get; }

    public string TryGet { get; }

    public string Save { get; }

    public string Remove { get; }

    public string Clear { get; }

    public string CleanupBatch { get; }

    public string Listen { get; }

    /// <summary>Quotes an identifier (already restricted to letters, digits and underscores by the options).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
