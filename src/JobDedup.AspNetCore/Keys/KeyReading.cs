namespace JobDedup.AspNetCore.Keys;

/// <summary>How reading a request's idempotency key went.</summary>
/// <param name="Kind">Whether a key was found and accepted.</param>
/// <param name="EngineKey">The key as the engine sees it (scope included), when accepted.</param>
/// <param name="Problem">Why the key was refused, when refused.</param>
internal readonly record struct KeyReading(KeyReadingKind Kind, string? EngineKey, string? Problem);
