using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Support;

/// <summary>The contract tests' view of PostgreSQL stores on a schema of one test's own, dropped at the end.</summary>
public sealed class PostgreSqlStoreHarness(TestSchema schema) : IClaimingStoreHarness
{
    private readonly List<PostgreSqlOutcomeStore<string>> _stores = [];

    public IClaimingOutcomeStore<string> Store(TimeSpan? pollInterval = null)
    {
        var store = schema.Store(o => o.PollInterval = pollInterval ?? o.PollInterval);
        _stores.Add(store);
        return store;
    }

    /// <summary>Counted once the notification connection LISTENs, so that a completion after it is sure to be notified.</summary>
    public long WaitReads(IClaimingOutcomeStore<string> store)
    {
        var postgres = (PostgreSqlOutcomeStore<string>)store;
        return postgres.IsListening ? postgres.WaitReads : 0;
    }

    public int Waiters(IClaimingOutcomeStore<string> store) => ((PostgreSqlOutcomeStore<string>)store).Waiters;

    public Task LapseAsync(string scope, string key) =>
        schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET lease_expires_at = now() - interval '1 second' WHERE scope = '{scope}' AND key = '{key}'");

    public Task ExpireAsync(string scope, string key) =>
        schema.ExecuteAsync($"UPDATE {schema.QualifiedTable} SET expires_at = now() - interval '1 second' WHERE scope = '{scope}' AND key = '{key}'");

    /// <summary>
    /// Disposing the store closes the dedicated connection that holds its instance lock, so the server drops the lock
    /// exactly as it does when the process dies; unlike a graceful shutdown, nothing releases the store's claims.
    /// </summary>
    public async Task KillOwnerAsync(IClaimingOutcomeStore<string> store) => await ((PostgreSqlOutcomeStore<string>)store).DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await schema.DisposeAsync();
    }
}
