namespace JobDedup.Redis.Tests.Support;

/// <summary>A key prefix that one test owns, with stores on it and ways to move a record's lease or expiry into the past.</summary>
public sealed class StoreScope(RedisServer redis)
{
    public string Prefix { get; } = "jdt-store-" + Guid.NewGuid().ToString("N")[..12];

    public RedisOutcomeStoreOptions Options(Action<RedisOutcomeStoreOptions>? configure = null)
    {
        var options = new RedisOutcomeStoreOptions { Configuration = redis.Configuration, Prefix = Prefix };
        configure?.Invoke(options);
        return options;
    }

    public RedisOutcomeStore<string> Store(Action<RedisOutcomeStoreOptions>? configure = null) => new(Options(configure));

    /// <summary>Moves a claim's lease into the past, as if its holder had stopped renewing it long ago.</summary>
    public async Task LapseAsync(RedisOutcomeStore<string> store, string scope, string key) =>
        await redis.Database.HashSetAsync(await store.RecordKeyAsync(scope, key), "lease", 0);

    /// <summary>Moves a kept outcome's expiry into the past.</summary>
    public async Task ExpireAsync(RedisOutcomeStore<string> store, string scope, string key) =>
        await redis.Database.HashSetAsync(await store.RecordKeyAsync(scope, key), "exp", 0);

    public async Task<string?> FieldAsync(RedisOutcomeStore<string> store, string scope, string key, string field) =>
        await redis.Database.HashGetAsync(await store.RecordKeyAsync(scope, key), field);
}
