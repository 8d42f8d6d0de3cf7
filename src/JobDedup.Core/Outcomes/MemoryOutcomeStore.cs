using System.Runtime.InteropServices;
using JobDedup.Outcomes;

namespace JobDedup;

/// <summary>
/// The in-process dedupe window: outcomes kept in memory until they expire, at most <see cref="Capacity"/> of them
/// (when full, the outcome closest to its expiry is evicted first). Each outcome expires on its own, whatever the
/// scopes and retentions sharing the store; expired outcomes are dropped by the next operation on the store.
/// </summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <remarks>
/// Outcomes are kept per scope, by key (ordinal). Their expiries are kept in order in two places: a queue, for the
/// usual case where each outcome expires no sooner than the one saved before it (one retention for everything), and a
/// heap for the others; the soonest expiry is at the head of one of the two, so saving an outcome of the usual case
/// costs no heap sift. Given an <see cref="IOutcomePacker{TResult}"/>, the store keeps each outcome the packer takes as
/// one array of bytes, and unpacks it for each lookup that finds it; it then keeps its keys in pinned arrays of its
/// own, reused as keys are dropped, so that a full window holds nothing the garbage collector copies between generations.
/// </remarks>
public sealed class MemoryOutcomeStore<TResult> : IOutcomeStore<TResult>
{
    /// <summary>The longest key a packed store keeps in an array of its own; a longer one is kept as its string.</summary>
    private const int MaxPooledKeyLength = 512;

    /// <summary>Key arrays are sized in steps of this many characters.</summary>
    private const int KeySizeStep = 16;

    private readonly Dictionary<string, Dictionary<StoreKey, Entry>> _scopes = new(StringComparer.Ordinal);

    // Every entry by its expiry. An entry replaced or removed leaves its old expiry item behind; the item is skipped
    // when it surfaces (its version no longer matches), and both orders are rebuilt when such items outnumber live ones.
    private readonly Queue<Expiry> _inOrder = new();
    private readonly PriorityQueue<Expiry, long> _outOfOrder = new();
    private readonly TimeProvider _timeProvider;
    private readonly IOutcomePacker<TResult>? _packer;
    private readonly PinnedArrayPool<char>? _keys;
    private readonly Lock _entriesLock = new();
    private long _lastInOrder = long.MinValue;

    // The scope of the last operation: a store mostly serves one deduplicator, so its entries are found without a lookup.
    private string? _lastScope;
    private Dictionary<StoreKey, Entry>? _lastEntries;
    private long _version;
    private int _count;

    /// <summary>Initializes a new instance of the <see cref="MemoryOutcomeStore{TResult}"/> class.</summary>
    /// <param name="capacity">The most outcomes kept at once.</param>
    /// <param name="timeProvider">The clock that decides expiry; the system clock when omitted.</param>
    public MemoryOutcomeStore(int capacity, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Initializes a new instance of the <see cref="MemoryOutcomeStore{TResult}"/> class that keeps outcomes packed.</summary>
    /// <param name="capacity">The most outcomes kept at once.</param>
    /// <param name="timeProvider">The clock that decides expiry; the system clock when <see langword="null"/>.</param>
    /// <param name="packer">Packs each outcome kept into one array, and unpacks it when it is found.</param>
    public MemoryOutcomeStore(int capacity, TimeProvider? timeProvider, IOutcomePacker<TResult> packer)
        : this(capacity, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(packer);
        _packer = packer;
        _keys = new PinnedArrayPool<char>(KeySizeStep, maxPerSize: 16, maxPooledLength: 256 * 1024);
    }

    /// <summary>Gets the most outcomes kept at once.</summary>
    public int Capacity { get; }

    /// <summary>Gets how many arrays the store has allocated for its keys (a store without a packer keeps its keys' strings).</summary>
    internal int KeyArraysAllocated
    {
        get
        {
            lock (_entriesLock)
            {
                return _keys?.Allocated ?? 0;
            }
        }
    }

    /// <summary>Gets how many outcomes are kept now; expired ones are dropped first, so only live ones count.</summary>
    public int Count
    {
        get
        {
            var now = _timeProvider.GetUtcNow().UtcTicks;
            var released = default(Released);
            int count;
            lock (_entriesLock)
            {
                DropExpired(now, ref released);
                count = _count;
            }

            released.GiveBack(_packer);
            return count;
        }
    }

    /// <inheritdoc/>
    public ValueTask<StoredOutcome<TResult>?> TryGetAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _timeProvider.GetUtcNow().UtcTicks;
        var released = default(Released);
        StoredOutcome<TResult>? found = null;
        lock (_entriesLock)
        {
            DropExpired(now, ref released);
            if (EntriesOf(scope, create: false) is { } entries && entries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var entry) && entry.ExpiresAt > now)
            {
                // Unpacked under the lock, the one call into the packer made there: once the entry is dropped, the
                // packer may reuse its array.
                found = entry.Packed is { } packed ? _packer!.Unpack(packed) : entry.Outcome;
            }
        }

        released.GiveBack(_packer);
        return new(found);
    }

    /// <inheritdoc/>
    public ValueTask SaveAsync(string scope, string key, StoredOutcome<TResult> outcome, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (retention <= TimeSpan.Zero)
        {
            return ValueTask.CompletedTask;
        }

        var now = _timeProvider.GetUtcNow().UtcTicks;
        var expiresAt = retention.Ticks >= DateTimeOffset.MaxValue.UtcTicks - now ? DateTimeOffset.MaxValue.UtcTicks : now + retention.Ticks;

        // Packed outside the lock; an outcome the packer declines is kept as it is.
        byte[]? packed = null;
        if (_packer is not null && _packer.TryPack(outcome, out var bytes))
        {
            packed = bytes;
            outcome = default;
        }

        var released = default(Released);
        lock (_entriesLock)
        {
            DropExpired(now, ref released);
            var entries = EntriesOf(scope, create: true)!;
            var version = ++_version;

            // One lookup: the key is made first, and given back if the store holds the key already.
            var candidate = NewKey(key);
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(entries, candidate, out var saved);
            StoreKey storedKey;
            if (saved)
            {
                // Saved again: replaced where it is, under the key it has; its earlier expiry item no longer matches and is skipped.
                released.Add(slot.Packed);
                ReturnKey(candidate);
                storedKey = slot.Key;
            }
            else
            {
                storedKey = candidate;
                _count++;
            }

            slot = new Entry(storedKey, outcome, packed, expiresAt, version);

            // Room is made before the new entry's expiry is added, so that the outcome just saved is never the one let go.
            while (_count > Capacity && TryTakeSoonest(long.MaxValue, out var soonest))
            {
                RemoveIfCurrent(soonest, ref released);
            }

            AddExpiry(new Expiry(entries, storedKey, version, expiresAt));
            CompactIfSparse();
        }

        released.GiveBack(_packer);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask RemoveAsync(string scope, string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var released = default(Released);
        lock (_entriesLock)
        {
            if (EntriesOf(scope, create: false) is { } entries && entries.GetAlternateLookup<ReadOnlySpan<char>>().Remove(key, out _, out var removed))
            {
                Release(removed, ref released);
                _count--;
            }

            CompactIfSparse();
        }

        released.GiveBack(_packer);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ClearAsync(string scope, CancellationToken cancellationToken)
    {
        var released = default(Released);
        lock (_entriesLock)
        {
            if (EntriesOf(scope, create: false) is { } entries)
            {
                // Out of the dictionary first: a key's array given back may be handed out again at once.
                var dropped = entries.Values.ToArray();
                _count -= entries.Count;
                entries.Clear();
                foreach (var entry in dropped)
                {
                    Release(entry, ref released);
                }
            }

            CompactIfSparse();
        }

        released.GiveBack(_packer);
        return ValueTask.CompletedTask;
    }

    /// <summary>The entries of a scope, made when asked to; called under the lock.</summary>
    private Dictionary<StoreKey, Entry>? EntriesOf(string scope, bool create)
    {
        if (_lastEntries is not null && string.Equals(scope, _lastScope, StringComparison.Ordinal))
        {
            return _lastEntries;
        }

        if (!_scopes.TryGetValue(scope, out var entries))
        {
            if (!create)
            {
                return null;
            }

            entries = new Dictionary<StoreKey, Entry>(StoreKey.Comparer.Instance);
            _scopes.Add(scope, entries);
        }

        _lastScope = scope;
        _lastEntries = entries;
        return entries;
    }

    private void AddExpiry(Expiry item)
    {
        // An empty queue takes any expiry: one long retention saved once does not send every later one to the heap.
        if (_inOrder.Count == 0 || item.ExpiresAt >= _lastInOrder)
        {
            _inOrder.Enqueue(item);
            _lastInOrder = item.ExpiresAt;
        }
        else
        {
            _outOfOrder.Enqueue(item, item.ExpiresAt);
        }
    }

    /// <summary>Takes the expiry item that comes first, when it comes no later than <paramref name="until"/>.</summary>
    private bool TryTakeSoonest(long until, out Expiry item)
    {
        var inOrder = _inOrder.TryPeek(out var first);
        var outOfOrder = _outOfOrder.TryPeek(out var other, out _);
        if (inOrder && (!outOfOrder || first.ExpiresAt <= other.ExpiresAt))
        {
            if (first.ExpiresAt > until)
            {
                item = default;
                return false;
            }

            item = _inOrder.Dequeue();
            return true;
        }

        if (outOfOrder && other.ExpiresAt <= until)
        {
            item = _outOfOrder.Dequeue();
            return true;
        }

        item = default;
        return false;
    }

    private void DropExpired(long now, ref Released released)
    {
        while (TryTakeSoonest(now, out var item))
        {
            RemoveIfCurrent(item, ref released);
        }
    }

    private void RemoveIfCurrent(in Expiry item, ref Released released)
    {
        // One lookup in the usual case, where the item is the entry's own; an entry saved again since is put back, under
        // its own key (the item's may be an array reused for another key since: only the version is trusted).
        if (!item.Entries.Remove(item.Key, out var entry))
        {
            return;
        }

        if (entry.Version == item.Version)
        {
            Release(entry, ref released);
            _count--;
        }
        else
        {
            item.Entries.Add(entry.Key, entry);
        }
    }

    /// <summary>Makes the key an entry is kept under: in an array of the store's when it has them and the key fits; called under the lock.</summary>
    private StoreKey NewKey(string key)
    {
        if (_keys is null || key.Length is 0 or > MaxPooledKeyLength)
        {
            return StoreKey.OfText(key);
        }

        var chars = _keys.Rent(key.Length);
        key.CopyTo(chars);
        return StoreKey.Pooled(chars, key.Length);
    }

    /// <summary>Gives a key's array back to the pool, when it has one; called under the lock.</summary>
    private void ReturnKey(in StoreKey key)
    {
        if (key.PooledChars is { } chars)
        {
            _keys!.Return(chars);
        }
    }

    /// <summary>
    /// Lets go of a dropped entry's arrays: its key's back to the pool at once, its packed outcome's into
    /// <paramref name="released"/>, for the packer once the lock is released; called under the lock.
    /// </summary>
    private void Release(in Entry entry, ref Released released)
    {
        released.Add(entry.Packed);
        ReturnKey(entry.Key);
    }

    private void CompactIfSparse()
    {
        if (_inOrder.Count + _outOfOrder.Count <= (2 * _count) + 64)
        {
            return;
        }

        var live = new List<Expiry>(_count);
        foreach (var entries in _scopes.Values)
        {
            foreach (var (key, entry) in entries)
            {
                live.Add(new Expiry(entries, key, entry.Version, entry.ExpiresAt));
            }
        }

        live.Sort(static (a, b) => a.ExpiresAt.CompareTo(b.ExpiresAt));
        _inOrder.Clear();
        _outOfOrder.Clear();
        _lastInOrder = long.MinValue;
        foreach (var item in live)
        {
            AddExpiry(item);
        }
    }

    // A struct, held in the dictionary itself: a kept outcome costs the dictionary no object of its own. A packed outcome
    // is in Packed alone (Outcome is the default). Key is the dictionary's own key, so that its array can be given back.
    private readonly record struct Entry(StoreKey Key, StoredOutcome<TResult> Outcome, byte[]? Packed, long ExpiresAt, long Version);

    /// <summary>
    /// The packed arrays one operation let go, given back to the packer once the store's lock is released: the packer is
    /// the application's code, and runs outside the lock (its <c>Unpack</c> aside). An operation mostly lets go of one,
    /// which takes no list.
    /// </summary>
    private struct Released
    {
        private byte[]? _first;
        private List<byte[]>? _more;

        public void Add(byte[]? packed)
        {
            if (packed is null)
            {
                return;
            }

            if (_first is null)
            {
                _first = packed;
            }
            else
            {
                (_more ??= []).Add(packed);
            }
        }

        /// <summary>Gives every array back; called after the lock is released. The store never reads them again.</summary>
        public readonly void GiveBack(IOutcomePacker<TResult>? packer)
        {
            if (_first is null)
            {
                return;
            }

            packer!.Recycle(_first);
            if (_more is null)
            {
                return;
            }

            foreach (var packed in _more)
            {
                packer.Recycle(packed);
            }
        }
    }

    /// <summary>When one entry expires: the entries of its scope, its key, and the version of the entry it was saved for.</summary>
    private readonly record struct Expiry(Dictionary<StoreKey, Entry> Entries, StoreKey Key, long Version, long ExpiresAt);
}
