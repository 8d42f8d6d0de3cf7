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
                {VersionOneColumns},
                PRIMARY KEY (scope, key)
            );
            CREATE INDEX "{schema.Table}_expires_at" ON {table} (expires_at);
            {VersionTable(schema)}
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

    [Fact]
    public async Task TableOfVersionThree_WithRows_IsMigratedToTheLatest_ItsRowsReadWithoutFingerprints_AndItsClaimsCarryOne()
    {
        await using var schema = database.NewSchema();
        var table = schema.QualifiedTable;
        var sequence = $"\"{schema.Name}\".\"{schema.Table}_fencing\"";
        var instances = $"\"{schema.Name}\".\"{schema.Table}_instances\"";
        var noon = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        // The table exactly as versions 1 to 3 left it, with rows a version-3 store wrote.
        await schema.ExecuteAsync($"""
            CREATE SCHEMA "{schema.Name}";
            CREATE SEQUENCE {sequence} AS bigint;
            CREATE SEQUENCE {instances} AS integer MINVALUE 1 CYCLE;
            CREATE TABLE {table} (
                {VersionOneColumns},
                key_digest       bytea       NOT NULL,
                owner_instance   integer,
                taken_over_from  text,
                CONSTRAINT "{schema.Table}_pkey" PRIMARY KEY (scope, key_digest)
            );
            CREATE INDEX "{schema.Table}_expires_at" ON {table} (expires_at);
            {VersionTable(schema)}
            INSERT INTO "{schema.Name}".jobdedup_schema_versions (table_name, version, description) VALUES
                ('{schema.Table}', 1, 'outcome table, fencing sequence and expiry index'),
                ('{schema.Table}', 2, 'rows keyed by the SHA-256 of the key'),
                ('{schema.Table}', 3, 'claim owner instances and takeovers');
            INSERT INTO {table} (scope, key, key_digest, status, owner, lease_expires_at, fencing_token, outcome, attempts, completed_at, expires_at) VALUES
                ('payments', 'evt_1', sha256(convert_to('evt_1', 'UTF8')), 'completed', NULL, NULL, nextval('{sequence}'), convert_to('"receipt 1"', 'UTF8'), 2, '2026-03-01T12:00:00Z', now() + interval '1 hour'),
                ('payments', 'evt_2', sha256(convert_to('evt_2', 'UTF8')), 'claimed', 'old instance', now() + interval '1 hour', nextval('{sequence}'), NULL, 0, NULL, now() + interval '2 hours');
            """);
        var oldClaimToken = await schema.ScalarAsync<long>($"SELECT fencing_token FROM {table} WHERE key = 'evt_2'");

        await using var store = schema.Store();
        await store.MigrateAsync();

        Assert.Equal(Migrator.LatestVersion, await schema.ScalarAsync<int>($"SELECT max(version) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{schema.Table}'"));
        Assert.Equal(3L, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema.Name}' AND table_name = '{schema.Table}' AND column_name IN ('fingerprint', 'failure_type', 'failure_message')"));

        // The version-3 outcome and claim read as having no fingerprint and no failure.
        var kept = await store.TryGetAsync("payments", "evt_1", default);
        Assert.Equal(new StoredOutcome<string>("receipt 1", 2, noon), kept);
        Assert.Null(kept!.Value.Fingerprint);
        Assert.Null(kept.Value.Failure);
        var busy = await store.TryClaimAsync("payments", "evt_2", "new instance", "fp-new", TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Busy, busy.State);
        Assert.Null(busy.Fingerprint);

        // The version-3 claim's holder still completes it, now with a fingerprint; a new claim keeps its own.
        Assert.True(await store.CompleteAsync("payments", "evt_2", oldClaimToken, new StoredOutcome<string>("receipt 2", 1, noon) { Fingerprint = "fp-old" }, TimeSpan.FromHours(1), default));
        Assert.Equal("fp-old", (await store.TryGetAsync("payments", "evt_2", default))!.Value.Fingerprint);
        var claim = await store.TryClaimAsync("payments", "evt_3", "new instance", "fp-3", TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Claimed, claim.State);
        Assert.Equal("fp-3", await schema.ScalarAsync<string>($"SELECT fingerprint FROM {table} WHERE key = 'evt_3'"));
    }

    [Fact]
    public async Task KeptFailure_IsARowWithoutAValue_HoldingTheExceptionsTypeAndMessage()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        await store.SaveAsync("s", "k", new StoredOutcome<string>(null!, 1, DateTimeOffset.UnixEpoch) { Fingerprint = "fp", Failure = new("System.Exception", "boom") }, TimeSpan.FromHours(1), default);

        Assert.Equal(1L, await schema.CountAsync("outcome IS NULL AND fingerprint = 'fp' AND failure_type = 'System.Exception' AND failure_message = 'boom'"));
    }

    /// <summary>The columns of the outcome table as version 1 created them; the later versions add to them.</summary>
    private const string VersionOneColumns = """
        scope            text        NOT NULL,
        key              text        NOT NULL,
        status           text        NOT NULL CHECK (status IN ('claimed', 'completed')),
        owner            text,
        lease_expires_at timestamptz,
        fencing_token    bigint      NOT NULL,
        outcome          bytea,
        attempts         integer     NOT NULL DEFAULT 0,
        completed_at     timestamptz,
        expires_at       timestamptz NOT NULL
        """;

    /// <summary>The version table, as every version created it.</summary>
    private static string VersionTable(TestSchema schema) => $"""
        CREATE TABLE "{schema.Name}".jobdedup_schema_versions (
            table_name text NOT NULL, version integer NOT NULL, description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, version));
        """;

    private static Task<long> VersionsAsync(TestSchema schema, string table) =>
        schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{table}'");
}
