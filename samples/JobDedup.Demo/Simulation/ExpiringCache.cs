using System.Collections.Concurrent;

namespace JobDedup.Demo.Simulation;

/// <summary>A minimal cache whose entries expire after a time to live.</summary>
internal sealed class ExpiringCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private int _writes;

    public ExpiringCache(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets how many times a value was written.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public bool TryGet(string key, out string value)
    {
        if (_entries.TryGetValue(key, out var entry) && _time.GetUtcNow() < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }

        value = string.Empty;
        return false;
    }

    public void Set(string key, string value, TimeSpan timeToLive)
    {
        _entries[key] = new Entry(value, _time.GetUtcNow() + timeToLive);
        Interlocked.Increment(ref _writes);
    }

    private readonly record struct Entry(string Value, DateTimeOffset ExpiresAt);
}
