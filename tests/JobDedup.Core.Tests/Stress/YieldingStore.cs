using System.Collections.Concurrent;

namespace JobDedup.Core.Tests.Stress;

/// <summary>An in-memory dedupe window whose every call first yields, so that saves and removals race like a remote store's.</summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
internal sealed class YieldingStore<TResult> : IOutcomeStore<TResult>
{
    private readonly ConcurrentDictionary<string, StoredOutcome<TResult>> _outcomes = new(StringComparer.Ordinal);

    public async ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        await Task.Yield();
        return _outcomes.TryGetValue(key, out var stored) ? stored : null;
    }

    public async ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        await Task.Yield();
        _outcomes[key] = outcome;
    }

    public async ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        await Task.Yield();
        _outcomes.TryRemove(key, out _);
    }

    public async ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        await Task.Yield();
        _outcomes.Clear();
    }
}
