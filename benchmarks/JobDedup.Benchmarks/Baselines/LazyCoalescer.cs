using System.Collections.Concurrent;

namespace JobDedup.Benchmarks.Baselines;

/// <summary>
/// The coalescing most .NET code writes by hand: <c>GetOrAdd</c> a <see cref="Lazy{T}"/> of the work's task, await it,
/// then <c>TryRemove</c> the entry. Written carefully (the factory overload with an argument, no closure per call), so
/// the comparison is against its best form, not a sloppy one.
/// </summary>
public sealed class LazyCoalescer<TKey, TResult>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Lazy<Task<TResult>>> _calls = new();

    public int Count => _calls.Count;

    public async Task<TResult> RunAsync(TKey key, Func<Task<TResult>> work, CancellationToken cancellationToken = default)
    {
        var lazy = _calls.GetOrAdd(key, static (_, w) => new Lazy<Task<TResult>>(w), work);
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Only the entry this caller saw: a newer one for the same key stays.
            _calls.TryRemove(new KeyValuePair<TKey, Lazy<Task<TResult>>>(key, lazy));
        }
    }
}
