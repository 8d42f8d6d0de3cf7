namespace JobDedup;

/// <summary>
/// The in-process dedupe window: outcomes kept in memory until they expire, at most <see cref="Capacity"/> of them
/// (the oldest is evicted first). Expired outcomes are dropped by the next operation on the store.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
public sealed class MemoryOutcomeStore<TResult> : IOutcomeStore<TResult>
{
    private readonly Dictionary<(string Scope, string Key), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _byAge = new();
    private readonly TimeProvider _timeProvider;
    private readonly Lock _sync = new();

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

    /// <summary>Gets how many outcomes are kept now, expired ones included until the next operation drops them.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            DropExpired(now);
            if (_entries.TryGetValue((scope, key), out var node))
            {
                if (node.Value.ExpiresAt > now)
                {
                    return new(node.Value.Outcome);
                }

                Unlink(node);
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
        lock (_sync)
        {
            DropExpired(now);
            if (_entries.TryGetValue((scope, key), out var existing))
            {
                Unlink(existing);
            }

            while (_entries.Count >= Capacity && _byAge.First is { } oldest)
            {
                Unlink(oldest);
            }

            var node = _byAge.AddLast(new Entry(scope, key, outcome, now + retention));
            _entries[(scope, key)] = node;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_entries.TryGetValue((scope, key), out var node))
            {
                Unlink(node);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            var node = _byAge.First;
            while (node is not null)
            {
                var next = node.Next;
                if (string.Equals(node.Value.Scope, scope, StringComparison.Ordinal))
                {
                    Unlink(node);
                }

                node = next;
            }
        }

        return ValueTask.CompletedTask;
    }

    // Outcomes of one scope share a retention, so age order is expiry order and the sweep stops at the first live one.
    private void DropExpired(DateTimeOffset now)
    {
        while (_byAge.First is { } oldest && oldest.Value.ExpiresAt <= now)
        {
            Unlink(oldest);
        }
    }

    private void Unlink(LinkedListNode<Entry> node)
    {
        _entries.Remove((node.Value.Scope, node.Value.Key));
        _byAge.Remove(node);
    }

    private sealed record Entry(string Scope, string Key, StoredOutcome<TResult> Outcome, DateTimeOffset ExpiresAt);
}
