namespace JobDedup.AspNetCore;

/// <summary>
/// A response as it is kept for repeats of its request: the status code, the headers named by
/// <see cref="IdempotencyOptions.ReplayHeaders"/> and the body. It is the result type of the deduplicator that
/// <c>AddIdempotency</c> registers, so an outcome store (PostgreSQL, Redis) keeps it as JSON.
/// </summary>
/// <param name="StatusCode">The status code.</param>
/// <param name="Headers">The kept headers, by name, each with its values.</param>
/// <param name="Body">The body bytes; empty for a response without a body.</param>
public sealed record IdempotentResponse(int StatusCode, IReadOnlyDictionary<string, string[]> Headers, byte[] Body)
{
    /// <summary>
    /// Gets a value indicating whether the response is to be kept for the dedupe window (decided when it was captured,
    /// by its status and size); the engine's retention classifier reads it. Not serialized.
    /// </summary>
    internal bool Keep { get; init; }
}
