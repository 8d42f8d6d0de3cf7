using System.Buffers.Binary;

namespace JobDedup.Redis.Caching;

/// <summary>
/// One cached value as Redis keeps it: a version byte, the logical expiry (Unix milliseconds), how long the rebuild
/// took (milliseconds, the XFetch <c>delta</c>), then the serialized value. The Redis key itself lives longer, by the
/// fail-safe stale age, so that a stale copy is at hand when a rebuild fails.
/// </summary>
internal readonly record struct CacheEntry(DateTimeOffset ExpiresAt, TimeSpan Delta, ReadOnlyMemory<byte> Payload)
{
    private const byte Version = 1;
    private const int HeaderLength = 1 + 8 + 4;

    public static byte[] Encode(DateTimeOffset expiresAt, TimeSpan delta, ReadOnlySpan<byte> payload)
    {
        var data = new byte[HeaderLength + payload.Length];
        data[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(1), expiresAt.ToUnixTimeMilliseconds());
        var deltaMs = Math.Clamp(delta.TotalMilliseconds, 0, int.MaxValue);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(9), (int)Math.Ceiling(deltaMs));
        payload.CopyTo(data.AsSpan(HeaderLength));
        return data;
    }

    /// <summary>Reads an entry; false for bytes that are not one (another writer's key in the same namespace).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> data, out CacheEntry entry)
    {
        var span = data.Span;
        if (span.Length < HeaderLength || span[0] != Version)
        {
            entry = default;
            return false;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[1..]));
        var delta = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadInt32LittleEndian(span[9..]));
        entry = new CacheEntry(expiresAt, delta, data[HeaderLength..]);
        return true;
    }
}
