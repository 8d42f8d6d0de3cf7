using System.Collections.Concurrent;

namespace JobDedup.Flights;

/// <summary>
/// The key-to-owner map. Lookups take no lock. An owner is replaced only by compare-and-swap against the owner the
/// replacer saw, and removes itself only while it is still the one mapped, so an old owner finishing late never
/// removes its successor.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
internal sealed class FlightTable<TKey>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, KeyOwner<TKey>> _owners;

    public FlightTable(IEqualityComparer<TKey>? comparer = null)
    {
        _owners = new ConcurrentDictionary<TKey, KeyOwner<TKey>>(comparer);
    }

    /// <summary>Gets the number of keys held.</summary>
    public int Count => _owners.Count;

    /// <summary>Returns the owner of the key, if any.</summary>
    public KeyOwner<TKey>? Find(TKey key) => _owners.TryGetValue(key, out var owner) ? owner : null;

    /// <summary>Maps <paramref name="owner"/> to its key if the key's owner is still <paramref name="expected"/>.</summary>
    /// <returns><see langword="false"/> when someone else changed the key's owner first.</returns>
    public bool TryReplace(KeyOwner<TKey> owner, KeyOwner<TKey>? expected) =>
        expected is null ? _owners.TryAdd(owner.Key, owner) : _owners.TryUpdate(owner.Key, owner, expected);

    /// <summary>Removes <paramref name="owner"/> if it is still the one mapped to its key.</summary>
    public void Remove(KeyOwner<TKey> owner) => _owners.TryRemove(new KeyValuePair<TKey, KeyOwner<TKey>>(owner.Key, owner));

    /// <summary>Returns the owners held now (a moment's snapshot).</summary>
    public KeyOwner<TKey>[] Snapshot() => [.. _owners.Values];
}
