using System.Collections.Concurrent;

namespace JobDedup.Redis.Caching;

/// <summary>
/// The optional short in-memory level in front of Redis: a copy lives until the earlier of its Redis expiry and the
/// level's duration, and is dropped at once when another process stores a newer value or anyone invalidates the key.
/// </summary>
internal sealed class MemoryLevel(TimeSpan duration, int maxEntries, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, Copy> _copies = new(StringComparer.Ordinal);

    public bool IsEnabled => duration > TimeSpan.Zero;

    public int Count => _copies.Count;

    /// <summary>Returns a fresh copy, with the Redis expiry and rebuild time of its entry (so that XFetch can draw on memory hits too).</summary>
    public bool TryGet<T>(string key, out T value, out DateTimeOffset expiresAt, out TimeSpan delta)
    {
        if (IsEnabled && _copies.TryGetValue(key, out var copy))
        {
            if (copy.Until > timeProvider.GetUtcNow() && copy.Value is T typed)
            {
                value = typed;
                expiresAt = copy.ExpiresAt;
                delta = copy.Delta;
                return true;
            }

            _copies.TryRemove(new KeyValuePair<string, Copy>(key, copy));
        }

        value = default!;
        expiresAt = default;
        delta = default;
        return false;
    }

    public void Set<T>(string key, T value, DateTimeOffset expiresAt, TimeSpan delta)
    {
        if (!IsEnabled)
        {
            return;
        }

        var until = timeProvider.GetUtcNow() + duration;
        if (expiresAt < until)
        {
            until = expiresAt;
        }

        // Bounded: past the cap, values go on being served from Redis only, until copies expire or are dropped.
        if (_copies.Count >= maxEntries && !_copies.ContainsKey(key))
        {
            SweepExpired();
            if (_copies.Count >= maxEntries)
            {
                return;
            }
        }

        _copies[key] = new Copy(value, until, expiresAt, delta);
    }

    public void Drop(string key) => _copies.TryRemove(key, out _);

    private void SweepExpired()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var pair in _copies)
        {
            if (pair.Value.Until <= now)
            {
                _copies.TryRemove(pair);
            }
        }
    }

    private sealed record Copy(object? Value, DateTimeOffset Until, DateTimeOffset ExpiresAt, TimeSpan Delta);
}
