using System.Text;
using System.Text.Json;
using JobDedup.PostgreSql.Tests.Support;

namespace JobDedup.PostgreSql.Tests.Window;

/// <summary>The plain dedupe-window contract, serializers, and option checks.</summary>
public sealed class OutcomeStoreTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Outcomes_AreJsonByDefault_WithTheGivenSerializerOptions()
    {
        await using var schema = database.NewSchema();
        await using var store = new PostgreSqlOutcomeStore<Receipt>(schema.Options(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web)));

        await store.SaveAsync("s", "k", new StoredOutcome<Receipt>(new Receipt("ch_1", 1999), 1, Noon), TimeSpan.FromHours(1), default);

        Assert.Equal(new Receipt("ch_1", 1999), (await store.TryGetAsync("s", "k", default))!.Value.Value);
        Assert.Equal("""{"chargeId":"ch_1","amount":1999}""", await schema.ScalarAsync<string>($"SELECT convert_from(outcome, 'UTF8') FROM {schema.QualifiedTable}"));
    }

    [Fact]
    public async Task Outcomes_UseAPluggableSerializer()
    {
        await using var schema = database.NewSchema();
        var serializer = new ReversingSerializer();
        await using var store = schema.Store(o => o.Serializer = serializer);

        await store.SaveAsync("s", "k", new StoredOutcome<string>("abc", 1, Noon), TimeSpan.FromHours(1), default);

        Assert.Equal("abc", (await store.TryGetAsync("s", "k", default))!.Value.Value);
        Assert.Equal("cba", await schema.ScalarAsync<string>($"SELECT convert_from(outcome, 'UTF8') FROM {schema.QualifiedTable}"));
        Assert.Equal(2, serializer.Calls);
    }

    [Fact]
    public async Task UnreadableOutcome_FailsNamingTheKeyButNotThePayload()
    {
        await using var schema = database.NewSchema();
        await using var writer = schema.Store();
        await using var reader = new PostgreSqlOutcomeStore<Receipt>(schema.Options());
        await writer.SaveAsync("s", "k", new StoredOutcome<string>("secret card number", 1, Noon), TimeSpan.FromHours(1), default);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.TryGetAsync("s", "k", default).AsTask());

        Assert.Contains("key 'k' of scope 's'", error.Message);
        Assert.DoesNotContain("secret", error.ToString());
    }

    [Fact]
    public void Options_Invalid_EachMessageNamesItsOption()
    {
        var options = new PostgreSqlOutcomeStoreOptions
        {
            ConnectionString = "",
            Schema = "1bad",
            Table = "no spaces",
            CleanupInterval = TimeSpan.FromMilliseconds(1),
            CleanupBatchSize = 0,
            ExpiredClaimRetention = TimeSpan.FromSeconds(-1),
            PollInterval = TimeSpan.Zero,
        };

        var errors = options.Validate();
        var thrown = Assert.Throws<ArgumentException>(() => new PostgreSqlOutcomeStore<string>(options));

        foreach (var name in new[] { "ConnectionString", "Schema", "Table", "CleanupInterval", "CleanupBatchSize", "ExpiredClaimRetention", "PollInterval" })
        {
            Assert.Single(errors, e => e.StartsWith(name + " ", StringComparison.Ordinal));
            Assert.Contains(name, thrown.Message);
        }
    }

    [Fact]
    public void Options_Defaults_AreValid()
    {
        var options = new PostgreSqlOutcomeStoreOptions { ConnectionString = database.ConnectionString };

        Assert.Empty(options.Validate());
        Assert.Equal("public", options.Schema);
        Assert.Equal("jobdedup_outcomes", options.Table);
        Assert.Equal(TimeSpan.FromMinutes(1), options.CleanupInterval);
        Assert.Equal(1_000, options.CleanupBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(1), options.PollInterval);
    }

    public sealed record Receipt(string ChargeId, int Amount);

    private sealed class ReversingSerializer : IOutcomeSerializer
    {
        private int _calls;

        public int Calls => _calls;

        public byte[] Serialize<TResult>(TResult value)
        {
            Interlocked.Increment(ref _calls);
            return Encoding.UTF8.GetBytes(new string(((string)(object)value!).Reverse().ToArray()));
        }

        public TResult Deserialize<TResult>(ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref _calls);
            return (TResult)(object)new string(Encoding.UTF8.GetString(data).Reverse().ToArray());
        }
    }
}
