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
        InstanceSequence = $"{Quote(schema)}.{Quote(table + "_instances")}";
        VersionTable = $"{Quote(schema)}.{Quote(VersionTableName)}";
        Channel = $"{schema}.{table}";
        LockSpace = InstanceLockSpace(Channel);
        var t = QualifiedTable;

        // A claim's owner is alive while its instance holds its session-level advisory lock (its connection to the
        // server is open). A claim without an instance (detection off, or the lock was not held when it was made) is
        // only ever taken over by its lease. Only evaluated for a live claim, so a free key never reads pg_locks.
        var ownerAlive = $"""
            (o.owner_instance IS NULL OR EXISTS (
                SELECT 1 FROM pg_catalog.pg_locks l
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                   AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
                   AND l.classid = {LockSpace}::oid AND l.objid = o.owner_instance::oid))
            """;
        var held = $"(o.status = '{Claimed}' AND o.lease_expires_at > now() AND {ownerAlive})";

        // Free keys are inserted; a key whose claim's lease lapsed or whose owner is gone, or whose kept outcome
        // expired, is taken over; a live claim or a live outcome is left alone and nothing is returned. The token
        // comes from a sequence, so a takeover always holds a larger token than every earlier claim on the key (the
        // WHERE makes sure of it). A claim replaced while still claimed records who held it: that run died.
        Claim = $"""
            INSERT INTO {t} AS o (scope, key, key_digest, status, owner, owner_instance, lease_expires_at, fencing_token, attempts, expires_at, fingerprint)
            VALUES (@scope, @key_text, @digest, '{Claimed}', @owner, @instance, now() + @lease, nextval('{Sequence}'), 0, now() + @lease + @keep, @fingerprint)
            ON CONFLICT (scope, key_digest) DO UPDATE
               SET status = '{Claimed}', owner = EXCLUDED.owner, owner_instance = EXCLUDED.owner_instance,
                   lease_expires_at = EXCLUDED.lease_expires_at, fencing_token = EXCLUDED.fencing_token,
                   taken_over_from = CASE o.status WHEN '{Claimed}' THEN coalesce(o.owner, '') END,
                   outcome = NULL, attempts = 0, completed_at = NULL, expires_at = EXCLUDED.expires_at,
                   fingerprint = EXCLUDED.fingerprint, failure_type = NULL, failure_message = NULL
             WHERE o.fencing_token < EXCLUDED.fencing_token
               AND CASE o.status WHEN '{Claimed}' THEN NOT {held} ELSE o.expires_at <= now() END
            RETURNING o.fencing_token, o.taken_over_from
            """;

        // What holds a key now: a live outcome (with its value), a live claim (with its lease), or neither; the
        // fingerprint is the live claim's or the kept outcome's.
        Inspect = $"""
            SELECT o.status = '{Completed}' AND o.expires_at > now() AS kept,
                   CASE WHEN o.status = '{Claimed}' AND o.lease_expires_at > now() THEN {ownerAlive} ELSE false END AS held,
                   o.lease_expires_at,
                   o.lease_expires_at - now() AS lease_left,
                   CASE WHEN o.status = '{Completed}' AND o.expires_at > now() THEN o.outcome END AS outcome,
                   o.attempts,
                   o.completed_at,
                   o.fingerprint,
                   o.failure_type,
                   o.failure_message
              FROM {t} o
             WHERE o.scope = @scope AND o.key_digest = @digest
            """;

        // The instance is stamped again, so a claim stays protected after its store had to take a new instance lock.
        Renew = $"""
            UPDATE {t}
               SET lease_expires_at = now() + @lease, expires_at = now() + @lease + @keep, owner_instance = @instance
             WHERE scope = @scope AND key_digest = @digest AND fencing_token = @token AND status = '{Claimed}'
            """;

        // The notification is sent only if the row changed (one per row of the CTE), and delivered at commit.
        Complete = $"""
            WITH done AS (
                UPDATE {t}
                   SET status = '{Completed}', lease_expires_at = NULL, outcome = @outcome, attempts = @attempts,
                       completed_at = @completed_at, expires_at = now() + @retention, fingerprint = @fingerprint,
                       failure_type = @failure_type, failure_message = @failure_message
                 WHERE scope = @scope AND key_digest = @digest AND fencing_token = @token AND status = '{Claimed}'
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM done
            """;

        Release = $"""
            WITH gone AS (
                DELETE FROM {t}
                 WHERE scope = @scope AND key_digest = @digest AND fencing_token = @token AND status = '{Claimed}'
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM gone
            """;

        TryGet = $"""
            SELECT outcome, attempts, completed_at, fingerprint, failure_type, failure_message
              FROM {t}
             WHERE scope = @scope AND key_digest = @digest AND status = '{Completed}' AND expires_at > now()
            """;

        // A plain save replaces whatever holds the key, with a new token: a claim holder's later write is refused.
        Save = $"""
            WITH kept AS (
                INSERT INTO {t} AS o (scope, key, key_digest, status, owner, lease_expires_at, fencing_token, outcome, attempts, completed_at, expires_at,
                                      fingerprint, failure_type, failure_message)
                VALUES (@scope, @key_text, @digest, '{Completed}', NULL, NULL, nextval('{Sequence}'), @outcome, @attempts, @completed_at, now() + @retention,
                        @fingerprint, @failure_type, @failure_message)
                ON CONFLICT (scope, key_digest) DO UPDATE
                   SET status = '{Completed}', owner = NULL, owner_instance = NULL, taken_over_from = NULL, lease_expires_at = NULL,
                       fencing_token = EXCLUDED.fencing_token, outcome = EXCLUDED.outcome, attempts = EXCLUDED.attempts,
                       completed_at = EXCLUDED.completed_at, expires_at = EXCLUDED.expires_at, fingerprint = EXCLUDED.fingerprint,
                       failure_type = EXCLUDED.failure_type, failure_message = EXCLUDED.failure_message
             RETURNING 1)
            SELECT pg_notify(@channel, @payload) FROM kept
            """;

        Remove = $"""
            WITH gone AS (DELETE FROM {t} WHERE scope = @scope AND key_digest = @digest RETURNING 1)
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
             WHERE (scope, key_digest) IN (SELECT scope, key_digest
                                             FROM {t}
                                            WHERE expires_at <= now()
                                            ORDER BY expires_at
                                            LIMIT @batch
                                              FOR UPDATE SKIP LOCKED)
               AND expires_at <= now()
            """;

        // A new instance id, and its session-level lock on the dedicated connection (false if an id came round again
        // while an old instance still holds it).
        TakeInstanceLock = $"""
            WITH id AS (SELECT nextval('{InstanceSequence}')::integer AS instance)
            SELECT instance, pg_try_advisory_lock({LockSpace}, instance) FROM id
            """;

        Listen = $"LISTEN {Quote(Channel)}";
    }

    /// <summary>Gets the name of the table that records which migrations ran on which outcome table of a schema.</summary>
    public static string VersionTableName => "jobdedup_schema_versions";

    public string Schema { get; }

    public string Table { get; }

    public string QualifiedTable { get; }

    public string Sequence { get; }

    /// <summary>Gets the sequence instance ids are drawn from.</summary>
    public string InstanceSequence { get; }

    /// <summary>
    /// Gets the first key of every instance lock on this table (the second is the instance id): a number derived from
    /// the table's name, so that stores of other tables (and other applications' advisory locks) never share a lock.
    /// </summary>
    public int LockSpace { get; }

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

    public string TakeInstanceLock { get; }

    public string Listen { get; }

    /// <summary>A stable, non-negative 31-bit number from a table's qualified name (FNV-1a of its UTF-8 bytes).</summary>
    public static int InstanceLockSpace(string channel)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(channel))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        return (int)(hash & 0x7FFF_FFFF);
    }

    /// <summary>Quotes an identifier (already restricted to letters, digits and underscores by the options).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
