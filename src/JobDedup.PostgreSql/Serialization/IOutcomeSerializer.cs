namespace JobDedup;

/// <summary>
/// Turns a handler's result into the bytes a durable outcome store keeps, and back. Set one on
/// <see cref="PostgreSqlOutcomeStoreOptions.Serializer"/> to replace System.Text.Json (for example with a source-generated
/// context, or a binary format). Implementations must be safe for concurrent use.
/// </summary>
public interface IOutcomeSerializer
{
    /// <summary>Serializes a result.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="value">The result; may be <see langword="null"/> when the handler returned null.</param>
    /// <returns>The bytes to keep.</returns>
    byte[] Serialize<TResult>(TResult value);

    /// <summary>Reads back a result kept by <see cref="Serialize{TResult}"/>.</summary>
    /// <typeparam name="TResult">The handler's result type.</typeparam>
    /// <param name="data">The kept bytes.</param>
    /// <returns>The result.</returns>
    TResult Deserialize<TResult>(ReadOnlySpan<byte> data);
}
