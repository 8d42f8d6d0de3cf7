using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>The claiming-store contract every store passes (tests/JobDedup.Testing/Contracts), on Redis.</summary>
public sealed class ContractTests(RedisServer redis) : ClaimingStoreContract, IClassFixture<RedisServer>
{
    protected override IClaimingStoreHarness NewHarness() => new Harness(new StoreScope(redis));

    private sealed class Harness(StoreScope scope) : IClaimingStoreHarness
    {
        private readonly List<RedisOutcomeStore<string>> _stores = [];

        public IClaimingOutcomeStore<string> Store()
        {
            var store = scope.Store();
            _stores.Add(store);
            return store;
        }

        public Task LapseAsync(string scopeName, string key) => scope.LapseAsync(First(), scopeName, key);

        public Task ExpireAsync(string scopeName, string key) => scope.ExpireAsync(First(), scopeName, key);

        public async ValueTask DisposeAsync()
        {
            foreach (var store in _stores)
            {
                await store.DisposeAsync();
            }
        }

        private RedisOutcomeStore<string> First() => _stores.Count > 0 ? _stores[0] : (RedisOutcomeStore<string>)Store();
    }
}
