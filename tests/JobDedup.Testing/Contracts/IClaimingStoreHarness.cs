namespace JobDedup.Testing.Contracts;

/// <summary>
/// One test's share of a claiming store's backend (a schema, a key prefix): stores on it, and ways to move time past
/// a claim's lease or an outcome's retention without waiting. Disposing it disposes the stores and drops the data.
/// </summary>
public interface IClaimingStoreHarness : IAsyncDisposable
{
    /// <summary>A new store on this test's data, as another process would have it; disposed with the harness.</summary>
    /// <param name="pollInterval">How often its waiters read again without a wake-up; the store's default when omitted.</param>
    IClaimingOutcomeStore<string> Store(TimeSpan? pollInterval = null);

    /// <summary>How many times the store's waiters found a key held and went on waiting, once wake-ups can reach them.</summary>
    long WaitReads(IClaimingOutcomeStore<string> store);

    /// <summary>How many keys the store's callers wait on now.</summary>
    int Waiters(IClaimingOutcomeStore<string> store);

    /// <summary>Moves a claim's lease into the past, as if its holder had stopped renewing it long ago.</summary>
    Task LapseAsync(string scope, string key);

    /// <summary>Moves a kept outcome's expiry into the past.</summary>
    Task ExpireAsync(string scope, string key);

    /// <summary>
    /// Ends a store as its process dying would, as far as the backend can tell: the signal that its owner lives (a
    /// PostgreSQL session's advisory lock, a Redis heartbeat) is gone, and the store is not used again.
    /// </summary>
    Task KillOwnerAsync(IClaimingOutcomeStore<string> store);
}
