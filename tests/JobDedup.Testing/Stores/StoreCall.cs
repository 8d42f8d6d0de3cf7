namespace JobDedup.Testing;

/// <summary>One call a <see cref="ScriptableOutcomeStore{TResult}"/> received, recorded when it arrived.</summary>
/// <param name="Operation">Which operation.</param>
/// <param name="Scope">The deduplicator's name.</param>
/// <param name="Key">The key; <see langword="null"/> for <see cref="StoreOperation.Clear"/>.</param>
/// <param name="Value">The value saved or completed, when the call carries one.</param>
/// <param name="FencingToken">The fencing token, for renew, complete and release.</param>
public sealed record StoreCall(StoreOperation Operation, string Scope, string? Key, object? Value, long FencingToken);
