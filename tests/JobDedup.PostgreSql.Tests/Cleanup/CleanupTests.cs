using System.Diagnostics;
using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Cleanup;

/// <summary>Expired rows are deleted in batches, and the table stays bounded however many keys pass through it.</summary>
public sealed class CleanupTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task CleanupAsync_ExpiredRows_AreDeletedInFullBatchesAndLiveRowsStay()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.CleanupBatchSize = 1_000);
        await store.MigrateAsync();
        await InsertAsync(schema, 5_500, "completed", expiresAt: "now() - interval '1 minute'", lease: "NULL");
        await InsertAsync(schema, 300, "claimed", expiresAt: "now() - interval '1 minute'", lease: "now() - interval '1 hour'", prefix: "lapsed");
        await InsertAsync(schema, 200, "completed", expiresAt: "now() + interval '1 hour'", lease: "NULL", prefix: "live");
        await InsertAsync(schema, 100, "claimed", expiresAt: "now() + interval '1 hour'", lease: "now() + interval '30 minutes'", prefix: "held");

        var deleted = await store.CleanupAsync();

        Assert.Equal(5_800, deleted);
        Assert.Equal(6, store.CleanupBatches); // five full batches of 1,000, then one of 800 ends the round
        Assert.Equal(300, await schema.CountAsync());
        Assert.Equal(0, await schema.CountAsync("expires_at <= now()"));
        Assert.Equal(0, await store.CleanupAsync());
    }

    [Fact]
    public async Task LapsedClaim_IsKeptForExpiredClaimRetention_ThenCleanedUp()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.ExpiredClaimRetention = TimeSpan.FromMinutes(10));
        await store.TryClaimAsync("s", "crashed", "gone", null, TimeSpan.FromSeconds(30), default);
        await schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET lease_expires_at = now() - interval '5 minutes', expires_at = now() - interval '5 minutes' + interval '10 minutes'");

        Assert.Equal(0, await store.CleanupAsync());
        await schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET lease_expires_at = now() - interval '11 minutes', expires_at = now() - interval '11 minutes' + interval '10 minutes'");
        Assert.Equal(1, await store.CleanupAsync());
        Assert.Equal(0, await schema.CountAsync());
    }

    [Fact]
    public async Task CleanupLoop_RunsOnItsOwn_AndDeletesExpiredRows()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o =>
        {
            o.CleanupInterval = TimeSpan.FromMilliseconds(200);
            o.CleanupBatchSize = 100;
        });
        await store.MigrateAsync();
        await InsertAsync(schema, 1_050, "completed", expiresAt: "now() - interval '1 second'", lease: "NULL");

        await Watchdog.Until(async () => await schema.CountAsync() == 0, "the background loop deleted every expired row");

        Assert.True(store.CleanupBatches >= 11, $"{store.CleanupBatches} batches");
    }

    /// <summary>
    /// 100,000 keys pass through one table with a half-second window while the store's own loop cleans up. A fifth go
    /// through the engine (claim, handler, complete: the real statements); the rest arrive as bulk waves of completed
    /// rows, a wave every 100 ms, so that the run fits in seconds on two cores. Without cleanup the table would end
    /// at 100,000 rows; with it, it never holds more than a few waves' worth, and ends empty.
    /// </summary>
    [Fact]
    public async Task HundredThousandKeys_WithAShortWindow_TheTableStaysBoundedAndEndsEmpty()
    {
        const int EngineKeys = 20_000;
        const int Waves = 20;
        const int WaveSize = 4_000;
        const int Callers = 32;
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o =>
        {
            o.CleanupInterval = TimeSpan.FromMilliseconds(250);
            o.CleanupBatchSize = 1_000;
        });
        var runs = 0;
        await using var dedup = Dedup.Create(
            store,
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult(job.Payload);
            },
            o => o.DedupeWindow = TimeSpan.FromMilliseconds(500));
        await store.MigrateAsync();

        var clock = Stopwatch.StartNew();
        long largest = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                largest = Math.Max(largest, await schema.CountAsync());
                await Task.Delay(50);
            }
        });

        var next = -1;
        var wrong = 0;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < EngineKeys)
            {
                var outcome = await dedup.EnqueueAsync(new Job($"key-{i}", $"value-{i}"));
                if (outcome.Value != $"value-{i}")
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(90));

        for (var wave = 0; wave < Waves; wave++)
        {
            await schema.ExecuteAsync($"""
                INSERT INTO {schema.QualifiedTable} (scope, key, key_digest, status, fencing_token, outcome, attempts, completed_at, expires_at)
                SELECT 'test', 'bulk-{wave}-' || i, sha256(convert_to('bulk-{wave}-' || i, 'UTF8')), 'completed', nextval('"{schema.Name}"."{schema.Table}_fencing"'),
                       convert_to('"v"', 'UTF8'), 1, now(), now() + interval '500 milliseconds'
                  FROM generate_series(1, {WaveSize}) AS i
                """);
            await Task.Delay(100);
        }

        var inserted = clock.Elapsed;
        await Watchdog.Until(async () => await schema.CountAsync() == 0, "the background loop deleted every expired row");
        await sampling.CancelAsync();
        await sampler;

        Assert.Equal(EngineKeys, runs);
        Assert.Equal(0, wrong);
        Assert.True(largest < 40_000, $"the table grew to {largest:N0} rows while 100,000 keys passed through it in {inserted.TotalSeconds:F1} s");
        Assert.True(store.CleanupBatches >= 100, $"{store.CleanupBatches} cleanup statements for 100,000 rows in batches of 1,000");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    private static Task<int> InsertAsync(TestSchema schema, int rows, string status, string expiresAt, string lease, string prefix = "expired") =>
        schema.ExecuteAsync($"""
            INSERT INTO {schema.QualifiedTable} (scope, key, key_digest, status, owner, lease_expires_at, fencing_token, outcome, attempts, completed_at, expires_at)
            SELECT 's', '{prefix}-' || i, sha256(convert_to('{prefix}-' || i, 'UTF8')), '{status}', NULL, {lease}, i, convert_to('"v"', 'UTF8'), 1, now(), {expiresAt}
              FROM generate_series(1, {rows}) AS i
            """);
}
