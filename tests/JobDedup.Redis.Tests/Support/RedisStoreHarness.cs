using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.Support;

/// <summary>The contract tests' view of Redis stores on a key prefix of one test's own.</summary>
public sealed class RedisStoreHarness(StoreScope prefix) : IClaimingStoreHarness
{
    private readonly List<RedisOutcomeStore<string>> _stores = [];

    public IClaimingOutcomeStore<string> Store(TimeSpan? pollInterval = null)
    {
        var store = prefix.Store(o => o.PollInterval = pollInterval ?? o.PollInterval);
        _stores.Add(store);
        return store;
    }

    public long WaitReads(IClaimingOutcomeStore<string> store) => ((RedisOutcomeStore<string>)store).WaitReads;

    public int Waiters(IClaimingOutcomeStore<string> store) => ((RedisOutcomeStore<string>)store).Waiters;

    public Task LapseAsync(string scope, string key) => prefix.LapseAsync(Any(), scope, key);

    public Task ExpireAsync(string scope, string key) => prefix.ExpireAsync(Any(), scope, key);

    /// <summary>Disposing the store deletes its heartbeat key, which is what expiry does once a dead process stops refreshing it.</summary>
    public async Task KillOwnerAsync(IClaimingOutcomeStore<string> store) => await ((RedisOutcomeStore<string>)store).DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    private RedisOutcomeStore<string> Any() => _stores.Count > 0 ? _stores[0] : (RedisOutcomeStore<string>)Store();
}
