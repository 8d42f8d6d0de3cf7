using System.Text;
using System.Text.Json;
using JobDedup.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobDedup.Redis.Tests.Caching;

/// <summary>Options, serializers and registration.</summary>
public sealed class OptionsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public void EntryOptions_Defaults_AreThoseDocumented()
    {
        var options = new CacheEntryOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(TimeSpan.FromMinutes(5), options.TimeToLive);
        Assert.Equal(1.0, options.Beta);
        Assert.Equal(TimeSpan.FromSeconds(10), options.LockTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.WaitForLock);
        Assert.Equal(TimeSpan.Zero, options.FailSafeMaxStaleAge);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.SoftTimeout);
    }

    [Fact]
    public void EntryOptions_Invalid_EachMessageNamesItsOption()
    {
        var options = new CacheEntryOptions
        {
            TimeToLive = TimeSpan.Zero,
            Beta = -1,
            LockTimeout = TimeSpan.Zero,
            WaitForLock = TimeSpan.FromSeconds(-1),
            FailSafeMaxStaleAge = TimeSpan.FromSeconds(-1),
            SoftTimeout = TimeSpan.FromSeconds(-5),
        };

        var errors = options.Validate();

        foreach (var name in new[] { "TimeToLive", "Beta", "LockTimeout", "WaitForLock", "FailSafeMaxStaleAge", "SoftTimeout" })
        {
            Assert.Single(errors, e => e.StartsWith(name + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GetOrSetAsync_InvalidPerCallOptions_ThrowsNamingTheOption()
    {
        await using var cache = redis.Cache(RedisServer.NewNamespace());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => cache.GetOrSetAsync("k", () => 1, new CacheEntryOptions { Beta = double.NaN }).AsTask());

        Assert.Contains("Beta", error.Message);
    }

    [Fact]
    public void CacheOptions_Invalid_EachMessageNamesItsOption()
    {
        var options = new SharedCacheOptions
        {
            Configuration = "",
            Namespace = "",
            MemoryLevelDuration = TimeSpan.FromSeconds(-1),
            MemoryLevelMaxEntries = 0,
            OperationTimeout = TimeSpan.Zero,
            RetryUnavailableAfter = TimeSpan.Zero,
            DefaultEntryOptions = new CacheEntryOptions { TimeToLive = TimeSpan.Zero },
        };

        var errors = options.Validate();
        var thrown = Assert.Throws<ArgumentException>(() => new SharedCache(options));

        foreach (var name in new[] { "Configuration", "Namespace", "MemoryLevelDuration", "MemoryLevelMaxEntries", "OperationTimeout", "RetryUnavailableAfter", "DefaultEntryOptions.TimeToLive" })
        {
            Assert.Single(errors, e => e.StartsWith(name + " ", StringComparison.Ordinal));
            Assert.Contains(name, thrown.Message);
        }
    }

    [Fact]
    public async Task Values_AreJsonByDefault_WithTheGivenSerializerOptions()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns, o => o.SerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web));

        await cache.GetOrSetAsync("k", () => new Product("Lamp", 1999));

        var raw = (byte[])(await redis.Database.StringGetAsync($"{ns}:v:k"))!;
        Assert.EndsWith("""{"name":"Lamp","price":1999}""", Encoding.UTF8.GetString(raw));
        Assert.Equal(new Product("Lamp", 1999), (await cache.GetOrSetAsync<Product>("k", () => throw new InvalidOperationException())).Value);
    }

    [Fact]
    public async Task Values_UseAPluggableSerializer()
    {
        var ns = RedisServer.NewNamespace();
        var serializer = new ReversingSerializer();
        await using var cache = redis.Cache(ns, o => o.Serializer = serializer);

        await cache.GetOrSetAsync("k", () => "abc");
        var read = await cache.GetOrSetAsync<string>("k", () => throw new InvalidOperationException());

        Assert.Equal("abc", read.Value);
        Assert.EndsWith("cba", Encoding.UTF8.GetString((byte[])(await redis.Database.StringGetAsync($"{ns}:v:k"))!));
        Assert.Equal(2, serializer.Calls);
    }

    [Fact]
    public async Task UnreadableValue_FailsNamingTheKeyButNotTheValue()
    {
        var ns = RedisServer.NewNamespace();
        await using var cache = redis.Cache(ns);
        await cache.GetOrSetAsync("k", () => "secret card number");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrSetAsync<Product>("k", () => new Product("x", 1)).AsTask());

        Assert.Contains("key 'k'", error.Message);
        Assert.DoesNotContain("secret", error.ToString());
    }

    [Fact]
    public async Task AddJobDedupCache_NamedInstances_AreSeparateAndSharedPerName()
    {
        var services = new ServiceCollection();
        services.AddJobDedupCache(o => o.Configuration = redis.Configuration);
        services.AddJobDedupCache("products", o =>
        {
            o.Configuration = redis.Configuration;
            o.Namespace = "products";
        });
        await using var provider = services.BuildServiceProvider();

        var byDefault = provider.GetRequiredService<SharedCache>();
        var products = provider.GetRequiredKeyedService<SharedCache>("products");

        Assert.Same(byDefault, provider.GetRequiredKeyedService<SharedCache>(SharedCacheServiceCollectionExtensions.DefaultName));
        Assert.NotSame(byDefault, products);
        Assert.Equal("products", products.Name);
        Assert.Equal("products", products.Namespace);
        Assert.Equal("jobdedup", byDefault.Namespace);
    }

    [Fact]
    public async Task AddJobDedupCache_InvalidOptions_FailTheHostStartNamingTheCacheAndTheSetting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddJobDedupCache("products", o => o.Namespace = "products");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Cache 'products': Configuration", error.Message);
    }

    [Fact]
    public void AddJobDedupCache_SameNameTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddJobDedupCache("a", o => o.Configuration = redis.Configuration);

        Assert.Throws<InvalidOperationException>(() => services.AddJobDedupCache("a", o => o.Configuration = redis.Configuration));
    }

    public sealed record Product(string Name, int Price);

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
