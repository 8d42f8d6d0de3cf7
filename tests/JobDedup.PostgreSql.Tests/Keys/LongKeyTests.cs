using System.Globalization;
using System.Text;
using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Keys;

/// <summary>Rows are keyed by a digest: keys past the btree row limit, and keys with NUL, work like any other.</summary>
public sealed class LongKeyTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>About 10 KB of UTF-8 from every plane, incompressible (TOAST cannot shrink it under the btree limit).</summary>
    private static string TenKilobyteKey(string salt)
    {
        var random = new Random(42);
        var text = new StringBuilder(salt);
        while (Encoding.UTF8.GetByteCount(text.ToString()) < 10_240)
        {
            text.Append(random.Next().ToString("x8", CultureInfo.InvariantCulture)).Append("é-ключ-鍵-🔑");
        }

        return text.ToString();
    }

    [Fact]
    public async Task TenKilobyteUnicodeKey_IsClaimedCompletedAndReplayedByADeduplicator()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var key = TenKilobyteKey("order ");
        var runs = 0;
        await using var dedup = Dedup.Create(
            store,
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult($"charged {job.Payload}");
            },
            o => o.MaxKeyBytes = 16 * 1024); // the engine allows up to 64 KiB when asked; the store must hold any of them

        var first = await dedup.EnqueueAsync(new Job(key, "once")).Within();
        var again = await dedup.EnqueueAsync(new Job(key, "twice")).Within();
        var neighbour = await dedup.EnqueueAsync(new Job(key + "!", "a key one character longer")).Within();

        Assert.True(Encoding.UTF8.GetByteCount(key) > 10_000);
        Assert.Equal((JobStatus.Succeeded, JobRole.Leader, "charged once"), (first.Status, first.Role, first.Value));
        Assert.Equal((JobRole.Replayed, "charged once"), (again.Role, again.Value));
        Assert.Equal((JobRole.Leader, "charged a key one character longer"), (neighbour.Role, neighbour.Value));
        Assert.Equal(2, runs);
        Assert.Equal(key, await schema.ScalarAsync<string>($"SELECT key FROM {schema.QualifiedTable} WHERE right(key, 1) <> '!'"));
    }

    [Fact]
    public async Task KeyWithNul_IsItsOwnKey_AndTheRowShowsItEscaped()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store();
        var key = "j\r\nX-Evil: 1\0" + TenKilobyteKey("");

        var claim = await store.TryClaimAsync("s", key, "owner", null, TimeSpan.FromMinutes(1), default);
        Assert.Equal(ClaimState.Claimed, claim.State);
        Assert.Equal(ClaimState.Busy, (await store.TryClaimAsync("s", key, "other", null, TimeSpan.FromMinutes(1), default)).State);
        Assert.True(await store.CompleteAsync("s", key, claim.FencingToken, new StoredOutcome<string>("done", 1, Noon), TimeSpan.FromHours(1), default));

        Assert.Equal(new StoredOutcome<string>("done", 1, Noon), await store.TryGetAsync("s", key, default));
        Assert.Equal(ClaimState.Completed, (await store.TryClaimAsync("s", key, "other", null, TimeSpan.FromMinutes(1), default)).State);
        Assert.Null(await store.TryGetAsync("s", key.Replace("\0", "\\u0000", StringComparison.Ordinal), default));
        Assert.Null(await store.TryGetAsync("s", key.Replace("\0", string.Empty, StringComparison.Ordinal), default));
        Assert.Equal(1, await schema.CountAsync("starts_with(key, E'j\\r\\nX-Evil: 1\\\\u0000')"));
    }
}
