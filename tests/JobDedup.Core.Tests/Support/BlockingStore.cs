namespace JobDedup.Core.Tests.Support;

/// <summary>
/// An outcome store whose lookup blocks the calling thread for one key until released. The dispatcher calls the
/// lookup itself, so this holds the dispatcher still and lets a test fill the queue deterministically.
/// </summary>
public sealed class BlockingStore<TResult>(string blockingKey) : IOutcomeStore<TResult>
{
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Blocked => _blocked.Task;

    public void Release() => _release.Set();

    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        if (key == blockingKey)
        {
            _blocked.TrySetResult();
            _release.Wait(Watchdog.Limit, CancellationToken.None);
        }

        return new((StoredOutcome<TResult>?)null);
    }

    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken) => default;

    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken) => default;

    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken) => default;
}
