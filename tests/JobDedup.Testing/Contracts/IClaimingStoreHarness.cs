namespace JobDedup.Testing.Contracts;

/// <summary>
/// One test's share of a claiming store's backend (a schema, a key prefix): stores on it, and ways to move time past
/// a claim's lease or an outcome's retention without waiting. Disposing it disposes the stores and drops the data.
/// </summary>
public interface IClaimingStoreHarness : IAsyncDisposable
{
    /// <summary>A new store on this test's data, as another process would have it; disposed with the harness.</summary>
    IClaimingOutcomeStore<string> Store();

    /// <summary>Moves a claim's lease into the past, as if its holder had stopped renewing it long ago.</summary>
    Task LapseAsync(string scope, string key);

    /// <summary>Moves a kept outcome's expiry into the past.</summary>
    Task ExpireAsync(string scope, string key);
}
