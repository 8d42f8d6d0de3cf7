using System.Collections.Concurrent;

namespace JobDedup.Benchmarks.Baselines;

/// <summary>
/// The same Lazy coalescing as <see cref="LazyCoalescer{TKey, TResult}"/>, written the way it is usually seen in the
/// wild: lambdas that capture the key and the work, so every call allocates closures.
/// </summary>
public sealed class ClosureLazyCoalescer<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TResult>>> _calls = new();

    public async Task<TResult> RunAsync(TKey key, Func<TKey, Task<TResult>> work)
    {
        var lazy = _calls.GetOrAdd(key, k => new Lazy<Task<TResult>>(() => work(k)));
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        finally
        {
            _calls.TryRemove(new KeyValuePair<TKey, Lazy<Task<TResult>>>(key, lazy));
        }
    }
}
