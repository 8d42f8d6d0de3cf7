using JobDedup.PostgreSql.Schema;
using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Schema;

/// <summary>The versioned migration: idempotent, and safe when several processes start at once.</summary>
public sealed class MigrationTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task MigrateAsync_RunAgainAndByANewStore_ChangesNothing()
    {
        await using var schema = database.NewSchema();
        await using (var first = schema.Store())
        {
            await first.MigrateAsync();
            await first.MigrateAsync();
        }

        await using var second = schema.Store();
        await second.MigrateAsync();

        Assert.Equal((long)Migrator.LatestVersion, await VersionsAsync(schema, schema.Table));
        Assert.Equal(Migrator.LatestVersion, await schema.ScalarAsync<int>($"SELECT max(version) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{schema.Table}'"));
        Assert.Equal(0, await schema.CountAsync());
    }

    [Fact]
    public async Task MigrateAsync_EightProcessesStartAtOnceOnAFreshSchema_AllSucceedAndItRunsOnce()
    {
        await using var schema = database.NewSchema();
        var stores = Enumerable.Range(0, 8).Select(_ => schema.Store()).ToArray();
        try
        {
            // Separate stores have separate connection pools: as separate processes, they race for the schema.
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync()))).Within();

            Assert.Equal((long)Migrator.LatestVersion, await VersionsAsync(schema, schema.Table));
            Assert.Equal(ClaimState.Claimed, (await stores[3].TryClaimAsync("s", "k", "o", null, TimeSpan.FromMinutes(1), default)).State);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task MigrateAsync_TwoTablesInOneNewSchemaAtOnce_EachGetsItsOwnVersion()
    {
        await using var schema = database.NewSchema();
        await using var payments = new PostgreSqlOutcomeStore<string>(schema.Options(o => o.Table = "payments"));
        await using var refunds = new PostgreSqlOutcomeStore<string>(schema.Options(o => o.Table = "refunds"));

        await Task.WhenAll(Task.Run(() => payments.MigrateAsync()), Task.Run(() => refunds.MigrateAsync())).Within();

        Assert.Equal((long)Migrator.LatestVersion, await VersionsAsync(schema, "payments"));
        Assert.Equal((long)Migrator.LatestVersion, await VersionsAsync(schema, "refunds"));
        var claim = await payments.TryClaimAsync("s", "k", "o", null, TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Claimed, (await refunds.TryClaimAsync("s", "k", "o", null, TimeSpan.FromMinutes(1), default)).State);
        Assert.Equal(ClaimState.Claimed, claim.State);
    }

    [Fact]
    public async Task FirstCall_MigratesOnItsOwn()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Equal((long)Migrator.LatestVersion, await VersionsAsync(schema, schema.Table));
    }

    [Fact]
    public async Task DefaultSchema_TableInPublic_IsCreatedThereWithItsOwnVersionRow()
    {
        await using var schema = database.NewSchema();
        var table = schema.Name + "_outcomes";
        var store = new PostgreSqlOutcomeStore<string>(new PostgreSqlOutcomeStoreOptions { ConnectionString = schema.ConnectionString, Table = table, CleanupInterval = TimeSpan.Zero });
        try
        {
            await store.MigrateAsync();
            var claim = await store.TryClaimAsync("s", "k", "o", null, TimeSpan.FromMinutes(1), default);

            Assert.Equal("public." + table, store.TableName);
            Assert.Equal(ClaimState.Claimed, claim.State);
            Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM public.\"{table}\""));
            Assert.Equal((long)Migrator.LatestVersion, await schema.ScalarAsync<long>($"SELECT count(*) FROM public.jobdedup_schema_versions WHERE table_name = '{table}'"));
        }
        finally
        {
            await store.DisposeAsync();
            // Under the migrations' lock, so as not to pull the version table from under a migration running now.
            await schema.ExecuteAsync($"""
                BEGIN;
                SELECT pg_advisory_xact_lock({0x4A6F_6244_6564_7570L});
                DROP TABLE IF EXISTS public."{table}";
                DROP SEQUENCE IF EXISTS public."{table}_fencing";
                DROP SEQUENCE IF EXISTS public."{table}_instances";
                DELETE FROM public.jobdedup_schema_versions WHERE table_name = '{table}';
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM public.jobdedup_schema_versions) THEN DROP TABLE public.jobdedup_schema_versions; END IF;
                END $$;
                COMMIT;
                """);
        }
    }

    [Fact]
    public async Task TableOfVersionOne_WithRows_IsMigratedToTheLatestAndKeepsItsOutcomesAndClaims()
    {
        await using var schema = database.NewSchema();
        var table = schema.QualifiedTable;
        var sequence = $"\"{schema.Name}\".\"{schema.Table}_fencing\"";

        // The table exactly as version 1 created it, with rows a version-1 store wrote.
        await schema.ExecuteAsync($"""
            CREATE SCHEMA "{schema.Name}";
            CREATE SEQUENCE {sequence} AS bigint;
            CREATE TABLE {table} (
                scope            text        NOT NULL,
                key              text        NOT NULL,
                status           text        NOT NULL CHECK (status IN ('claimed', 'completed')),
                owner            text,
                lease_expires_at timestamptz,
                fencing_token    bigint      NOT NULL,
                outcome          bytea,
                attempts         integer     NOT NULL DEFAULT 0,
                completed_at     timestamptz,
                expires_at       timestamptz NOT NULL,
                PRIMARY KEY (scope, key)
            );
            CREATE INDEX "{schema.Table}_expires_at" ON {table} (expires_at);
            CREATE TABLE "{schema.Name}".jobdedup_schema_versions (
                table_name text NOT NULL, version integer NOT NULL, description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, version));
            INSERT INTO "{schema.Name}".jobdedup_schema_versions (table_name, version, description)
                 VALUES ('{schema.Table}', 1, 'outcome table, fencing sequence and expiry index');
            INSERT INTO {table} (scope, key, status, owner, lease_expires_at, fencing_token, outcome, attempts, completed_at, expires_at) VALUES
                ('payments', 'evt_1', 'completed', NULL, NULL, nextval('{sequence}'), convert_to('"receipt 1"', 'UTF8'), 2, '2026-03-01T12:00:00Z', now() + interval '1 hour'),
                ('payments', 'café-ключ-✓', 'completed', NULL, NULL, nextval('{sequence}'), convert_to('"receipt 2"', 'UTF8'), 1, '2026-03-01T12:00:00Z', now() + interval '1 hour'),
                ('payments', 'evt_3', 'claimed', 'old instance', now() + interval '1 hour', nextval('{sequence}'), NULL, 0, NULL, now() + interval '2 hours');
            """);
        var tokenBefore = await schema.ScalarAsync<long>($"SELECT max(fencing_token) FROM {table}");

        await using var store = schema.Store();
        await store.MigrateAsync();

        Assert.Equal(Migrator.LatestVersion, await schema.ScalarAsync<int>($"SELECT max(version) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{schema.Table}'"));
        Assert.Equal(3L, await schema.CountAsync());
        Assert.Equal(new StoredOutcome<string>("receipt 1", 2, new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)), await store.TryGetAsync("payments", "evt_1", default));
        var unicode = await store.TryClaimAsync("payments", "café-ключ-✓", "new instance", null, TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Completed, unicode.State);
        Assert.Equal("receipt 2", unicode.Outcome!.Value.Value);

        // The claim of version 1 has no instance: it holds by its lease, as before.
        var busy = await store.TryClaimAsync("payments", "evt_3", "new instance", null, TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Busy, busy.State);

        // New claims go on from the same sequence, and a long key now fits.
        var longKey = new string('k', 5_000) + "✓";
        var claim = await store.TryClaimAsync("payments", longKey, "new instance", null, TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Claimed, claim.State);
        Assert.True(claim.FencingToken > tokenBefore);
        Assert.Equal(0, await schema.CountAsync("key_digest IS NULL OR length(key_digest) <> 32"));
    }

    private static Task<long> VersionsAsync(TestSchema schema, string table) =>
        schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{table}'");
}
