namespace JobDedup;

/// <summary>A successful outcome kept for the dedupe window.</summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <param name="Value">The value the handler returned.</param>
/// <param name="Attempts">The attempts the original flight made.</param>
/// <param name="CompletedAt">When the original flight completed.</param>
public readonly record struct StoredOutcome<TResult>(TResult Value, int Attempts, DateTimeOffset CompletedAt);
