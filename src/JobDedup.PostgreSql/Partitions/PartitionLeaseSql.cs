using JobDedup.PostgreSql.Schema;

namespace JobDedup.PostgreSql.Partitions;

/// <summary>
/// The statements of the partition lease store. A member is live while its row has not expired and either its last
/// renewal is within the session grace or its database session still holds its advisory lock (a crashed process
/// closes its session, so its lock goes at once and only the grace is left to wait).
/// </summary>
internal sealed class PartitionLeaseSql
{
    /// <summary>"JobDedup" in ASCII: the transaction-level lock that serializes creating the tables.</summary>
    private const long CreateLock = 0x4A6F624465647570;

    public PartitionLeaseSql(string schema, string prefix)
    {
        var members = $"{StoreSql.Quote(schema)}.{StoreSql.Quote(prefix + "_members")}";
        var leases = $"{StoreSql.Quote(schema)}.{StoreSql.Quote(prefix + "_leases")}";
        Members = members;
        Leases = leases;

        Create = $"""
            SELECT pg_advisory_xact_lock({CreateLock});
            CREATE SCHEMA IF NOT EXISTS {StoreSql.Quote(schema)};
            CREATE TABLE IF NOT EXISTS {members} (
                grp         text        NOT NULL,
                member      text        NOT NULL,
                lock_key    bigint      NOT NULL,
                expires_at  timestamptz NOT NULL,
                grace_until timestamptz NOT NULL,
                PRIMARY KEY (grp, member));
            CREATE TABLE IF NOT EXISTS {leases} (
                grp         text        NOT NULL,
                partition   integer     NOT NULL,
                owner       text        NOT NULL,
                acquired_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (grp, partition));
            """;

        var live = $"""
            SELECT m.member FROM {members} m
            WHERE m.grp = @grp AND m.expires_at > now()
              AND (m.grace_until > now() OR EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid::bigint = (m.lock_key >> 32) AND l.objid::bigint = (m.lock_key & 4294967295)))
            """;

        Renew = $"""
            INSERT INTO {members} (grp, member, lock_key, expires_at, grace_until)
            VALUES (@grp, @member, @lock, now() + @timeout, now() + @grace)
            ON CONFLICT (grp, member) DO UPDATE
              SET lock_key = excluded.lock_key, expires_at = excluded.expires_at, grace_until = excluded.grace_until;
            DELETE FROM {leases} WHERE grp = @grp AND owner NOT IN ({live});
            DELETE FROM {members} WHERE grp = @grp AND expires_at <= now();
            {live} ORDER BY 1;
            SELECT partition, owner FROM {leases} WHERE grp = @grp;
            """;

        Acquire = $"""
            INSERT INTO {leases} AS current (grp, partition, owner) VALUES (@grp, @partition, @member)
            ON CONFLICT (grp, partition) DO UPDATE SET owner = excluded.owner, acquired_at = now()
              WHERE current.owner = excluded.owner OR current.owner NOT IN ({live})
            RETURNING owner
            """;

        Release = $"DELETE FROM {leases} WHERE grp = @grp AND partition = @partition AND owner = @member";

        Leave = $"""
            DELETE FROM {leases} WHERE grp = @grp AND owner = @member;
            DELETE FROM {members} WHERE grp = @grp AND member = @member;
            """;
    }

    public string Members { get; }

    public string Leases { get; }

    public string Create { get; }

    /// <summary>Renews the member, drops the leases of dead members, and reads the live members and the leases.</summary>
    public string Renew { get; }

    /// <summary>Takes a lease that is free, held by a member that is not live, or already held by this member.</summary>
    public string Acquire { get; }

    public string Release { get; }

    public string Leave { get; }

    public static string TryLock => "SELECT pg_try_advisory_lock(@lock)";
}
