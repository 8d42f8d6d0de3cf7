using System.Text;
using System.Text.Json;
using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Window;

/// <summary>The plain dedupe-window contract, serializers, and option checks (the PostgreSQL store's cases).</summary>
public sealed class OutcomeStoreTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task SaveAsync_KeepsTheOutcomeForItsRetentionOnly()
    {
        var scope = new StoreScope(redis);
        await using var store = scope.Store();

        await store.SaveAsync("s", "k", new StoredOutcome<string>("v", 1, Noon), TimeSpan.FromMinutes(30), default);

        var ttl = await redis.Database.KeyTimeToLiveAsync(await store.RecordKeyAsync("s", "k"));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
    }

    [Fact]
    public async Task Outcomes_AreJsonByDefault_WithTheGivenSerializerOptions()
    {
        var scope = new StoreScope(redis);
        await using var store = new RedisOutcomeStore<Receipt>(scope.Options(o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web)));

        await store.SaveAsync("s", "k", new StoredOutcome<Receipt>(new Receipt("ch_1", 1999), 1, Noon), TimeSpan.FromHours(1), default);

        Assert.Equal(new Receipt("ch_1", 1999), (await store.TryGetAsync("s", "k", default))!.Value.Value);
        await using var raw = scope.Store();
        Assert.Equal("""{"chargeId":"ch_1","amount":1999}""", await scope.FieldAsync(raw, "s", "k", "val"));
    }

    [Fact]
    public async Task Outcomes_UseAPluggableSerializer()
    {
        var scope = new StoreScope(redis);
        var serializer = new ReversingSerializer();
        await using var store = scope.Store(o => o.Serializer = serializer);

        await store.SaveAsync("s", "k", new StoredOutcome<string>("abc", 1, Noon), TimeSpan.FromHours(1), default);

        Assert.Equal("abc", (await store.TryGetAsync("s", "k", default))!.Value.Value);
        Assert.Equal("cba", await scope.FieldAsync(store, "s", "k", "val"));
        Assert.Equal(2, serializer.Calls);
    }

    [Fact]
    public async Task UnreadableOutcome_FailsNamingTheKeyButNotThePayload()
    {
        var scope = new StoreScope(redis);
        await using var writer = scope.Store();
        await using var reader = new RedisOutcomeStore<Receipt>(scope.Options());
        await writer.SaveAsync("s", "k", new StoredOutcome<string>("secret card number", 1, Noon), TimeSpan.FromHours(1), default);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reader.TryGetAsync("s", "k", default).AsTask());

        Assert.Contains("key 'k' of scope 's'", error.Message);
        Assert.DoesNotContain("secret", error.ToString());
    }

    [Fact]
    public void Options_Invalid_EachMessageNamesItsOption()
    {
        var options = new RedisOutcomeStoreOptions
        {
            Configuration = "",
            Prefix = "",
            ExpiredClaimRetention = TimeSpan.FromSeconds(-1),
            PollInterval = TimeSpan.Zero,
            OperationTimeout = TimeSpan.Zero,
        };

        var errors = options.Validate();
        var thrown = Assert.Throws<ArgumentException>(() => new RedisOutcomeStore<string>(options));

        foreach (var name in new[] { "Configuration", "Prefix", "ExpiredClaimRetention", "PollInterval", "OperationTimeout" })
        {
            Assert.Single(errors, e => e.StartsWith(name + " ", StringComparison.Ordinal));
            Assert.Contains(name, thrown.Message);
        }
    }

    [Fact]
    public void Options_Defaults_AreValid()
    {
        var options = new RedisOutcomeStoreOptions { Configuration = redis.Configuration };

        Assert.Empty(options.Validate());
        Assert.Equal("jobdedup:outcomes", options.Prefix);
        Assert.Equal(TimeSpan.FromMinutes(10), options.ExpiredClaimRetention);
        Assert.Equal(TimeSpan.FromSeconds(1), options.PollInterval);
    }

    public sealed record Receipt(string ChargeId, int Amount);

    private sealed class ReversingSerializer : ICacheSerializer
    {
        private int _calls;

        public int Calls => _calls;

        public byte[] Serialize<T>(T value)
        {
            Interlocked.Increment(ref _calls);
            return Encoding.UTF8.GetBytes(new string(((string)(object)value!).Reverse().ToArray()));
        }

        public T Deserialize<T>(ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref _calls);
            return (T)(object)new string(Encoding.UTF8.GetString(data).Reverse().ToArray());
        }
    }
}
