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

        Assert.Equal(1L, await VersionsAsync(schema, schema.Table));
        Assert.Equal(1, await schema.ScalarAsync<int>($"SELECT max(version) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{schema.Table}'"));
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

            Assert.Equal(1L, await VersionsAsync(schema, schema.Table));
            Assert.Equal(ClaimState.Claimed, (await stores[3].TryClaimAsync("s", "k", "o", TimeSpan.FromMinutes(1), default)).State);
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

        Assert.Equal(1L, await VersionsAsync(schema, "payments"));
        Assert.Equal(1L, await VersionsAsync(schema, "refunds"));
        var claim = await payments.TryClaimAsync("s", "k", "o", TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Claimed, (await refunds.TryClaimAsync("s", "k", "o", TimeSpan.FromMinutes(1), default)).State);
        Assert.Equal(ClaimState.Claimed, claim.State);
    }

    [Fact]
    public async Task FirstCall_MigratesOnItsOwn()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();

        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Equal(1L, await VersionsAsync(schema, schema.Table));
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
            var claim = await store.TryClaimAsync("s", "k", "o", TimeSpan.FromMinutes(1), default);

            Assert.Equal("public." + table, store.TableName);
            Assert.Equal(ClaimState.Claimed, claim.State);
            Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM public.\"{table}\""));
            Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM public.jobdedup_schema_versions WHERE table_name = '{table}'"));
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
                DELETE FROM public.jobdedup_schema_versions WHERE table_name = '{table}';
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM public.jobdedup_schema_versions) THEN DROP TABLE public.jobdedup_schema_versions; END IF;
                END $$;
                COMMIT;
                """);
        }
    }

    private static Task<long> VersionsAsync(TestSchema schema, string table) =>
        schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".jobdedup_schema_versions WHERE table_name = '{table}'");
}
