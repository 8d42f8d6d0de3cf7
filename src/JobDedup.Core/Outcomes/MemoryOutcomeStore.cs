namespace JobDedup;

/// <summary>
/// The in-process dedupe window: outcomes kept in memory until they expire, at most <see cref="Capacity"/> of them
/// (when full, the outcome closest to its expiry is evicted first). Each outcome expires on its own, whatever the
/// scopes and retentions sharing the store; expired outcomes are dropped by the next operation on the store.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public sealed class MemoryOutcomeStore<TResult> : IOutcomeStore<TResult>
{
    private readonly Dictionary<(string Scope, string Key), Entry> _entries = [];

    // Every entry by its expiry. An entry replaced or removed leaves its old heap item behind; the item is skipped when
    // it surfaces (its version no longer matches), and the heap is rebuilt when such items outnumber the live ones.
    private readonly PriorityQueue<(string Scope, string Key, long Version), DateTimeOffset> _byExpiry = new();
    private readonly TimeProvider _timeProvider;
    private readonly Lock _entriesLock = new();
    private long _version;

    /// <summary>Initializes a new instance of the <see cref="MemoryOutcomeStore{TResult}"/> class.</summary>
    /// <param name="capacity">The most outcomes kept at once.</param>
    /// <param name="timeProvider">The clock that decides expiry; the system clock when omitted.</param>
    public MemoryOutcomeStore(int capacity, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the most outcomes kept at once.</summary>
    public int Capacity { get; }

    /// <summary>Gets how many outcomes are kept now; expired ones are dropped first, so only live ones count.</summary>
    public int Count
    {
        get
        {
            var now = _timeProvider.GetUtcNow();
            lock (_entriesLock)
            {
                DropExpired(now);
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_entriesLock)
        {
            DropExpired(now);
            if (_entries.TryGetValue((scope, key), out var entry) && entry.ExpiresAt > now)
            {
                return new(entry.Outcome);
            }
        }

        return new((StoredOutcome<TResult>?)null);
    }

    /// <inheritdoc/>
    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (retention <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        var now = _timeProvider.GetUtcNow();
        lock (_entriesLock)
        {
            DropExpired(now);
            _entries.Remove((scope, key));
            while (_entries.Count >= Capacity && _byExpiry.TryDequeue(out var soonest, out _))
            {
                RemoveIfCurrent(soonest);
            }

            var version = ++_version;
            var expiresAt = now + retention;
            _entries[(scope, key)] = new Entry(outcome, expiresAt, version);
            _byExpiry.Enqueue((scope, key, version), expiresAt);
            CompactIfSparse();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        lock (_entriesLock)
        {
            _entries.Remove((scope, key));
            CompactIfSparse();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        lock (_entriesLock)
        {
            foreach (var id in _entries.Keys.Where(k => string.Equals(k.Scope, scope, StringComparison.Ordinal)).ToList())
            {
                _entries.Remove(id);
            }

            CompactIfSparse();
        }

        return ValueTask.CompletedTask;
    }

    private void DropExpired(DateTimeOffset now)
    {
        while (_byExpiry.TryPeek(out var item, out var expiresAt) && expiresAt <= now)
        {
            _byExpiry.Dequeue();
            RemoveIfCurrent(item);
        }
    }

    private void RemoveIfCurrent((string Scope, string Key, long Version) item)
    {
        if (_entries.TryGetValue((item.Scope, item.Key), out var entry) && entry.Version == item.Version)
        {
            _entries.Remove((item.Scope, item.Key));
        }
    }

    private void CompactIfSparse()
    {
        if (_byExpiry.Count <= (2 * _entries.Count) + 64)
        {
            return;
        }

        _byExpiry.Clear();
        foreach (var (id, entry) in _entries)
        {
            _byExpiry.Enqueue((id.Scope, id.Key, entry.Version), entry.ExpiresAt);
        }
    }

    // A struct, held in the dictionary itself: a kept outcome costs the dictionary no object of its own.
    private readonly record struct Entry(StoredOutcome<TResult> Outcome, DateTimeOffset ExpiresAt, long Version);
}
