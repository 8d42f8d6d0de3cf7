using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Claims;

/// <summary>The claiming-store contract every store passes (tests/JobDedup.Testing/Contracts), on PostgreSQL.</summary>
public sealed class ContractTests(PostgreSqlDatabase database) : ClaimingStoreContract, IClassFixture<PostgreSqlDatabase>
{
    protected override IClaimingStoreHarness NewHarness() => new Harness(database.NewSchema());

    private sealed class Harness(TestSchema schema) : IClaimingStoreHarness
    {
        private readonly List<PostgreSqlOutcomeStore<string>> _stores = [];

        public IClaimingOutcomeStore<string> Store()
        {
            var store = schema.Store();
            _stores.Add(store);
            return store;
        }

        public Task LapseAsync(string scope, string key) =>
            schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET lease_expires_at = now() - interval '1 second' WHERE scope = '{scope}' AND key = '{key}'");

        public Task ExpireAsync(string scope, string key) =>
            schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET expires_at = now() - interval '1 second' WHERE scope = '{scope}' AND key = '{key}'");

        public async ValueTask DisposeAsync()
        {
            foreach (var store in _stores)
            {
                await store.DisposeAsync();
            }

            await schema.DisposeAsync();
        }
    }
}
