using System.Collections.Concurrent;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>
/// An in-memory dedupe window whose saves are slow: a save is in progress for a bounded number of steps and lands
/// early only once another save of the same key landed after it began (a write overtaken on the wire). Lookups and
/// removals answer at once, so that a test isolates what a slow save does.
/// </summary>
/// <remarks>Only a concurrent map and atomic operations: the engine may call it from threads the testing engine does not control.</remarks>
/// <typeparam name="TResult">The handler's result type.</typeparam>
internal sealed class SlowSaveStore<TResult>(int saveSteps) : IOutcomeStore<TResult>
{
    private readonly ConcurrentDictionary<(string Scope, string Key), StoredOutcome<TResult>> _outcomes = new();
    private readonly ConcurrentDictionary<string, int> _landedSaves = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstSaveStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes when the first save has begun.</summary>
    public Task FirstSaveStarted => _firstSaveStarted.Task;

    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken) =>
        new(_outcomes.TryGetValue((scope, key), out var stored) ? stored : null);

    public async ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        var landedBefore = LandedSaves(key);
        _firstSaveStarted.TrySetResult();
        await BlockingCall.RunAsync(saveSteps, () => LandedSaves(key) != landedBefore).ConfigureAwait(false);
        _outcomes[(scope, key)] = outcome;
        _landedSaves.AddOrUpdate(key, 1, static (_, landed) => landed + 1);
    }

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        _outcomes.TryRemove((scope, key), out _);
        return default;
    }

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        foreach (var entry in _outcomes)
        {
            if (entry.Key.Scope == scope)
            {
                _outcomes.TryRemove(entry);
            }
        }

        return default;
    }

    private int LandedSaves(string key) => _landedSaves.TryGetValue(key, out var landed) ? landed : 0;
}
