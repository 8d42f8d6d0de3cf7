namespace JobDedup;

/// <summary>
/// Turns values into the bytes Redis keeps, and back. Set one on <see cref="SharedCacheOptions.Serializer"/> or
/// <see cref="RedisOutcomeStoreOptions.Serializer"/> to replace System.Text.Json (for example with a source-generated
/// context, or a binary format). Implementations must be safe for concurrent use.
/// </summary>
public interface ICacheSerializer
{
    /// <summary>Serializes a value.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="value">The value; may be <see langword="null"/>.</param>
    /// <returns>The bytes to keep.</returns>
    byte[] Serialize<T>(T value);

    /// <summary>Reads back a value kept by <see cref="Serialize{T}"/>.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="data">The kept bytes.</param>
    /// <returns>The value.</returns>
    T Deserialize<T>(ReadOnlySpan<byte> data);
}
