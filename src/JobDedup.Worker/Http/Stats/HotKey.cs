namespace JobDedup.Worker.Http.Stats;

/// <summary>A key in flight with many callers, as the dashboard lists it (only when keys may be shown).</summary>
/// <param name="Key">The dedupe key.</param>
/// <param name="Callers">Callers attached to its flight.</param>
/// <param name="Age">How long it has been in flight, in seconds.</param>
internal sealed record HotKey(string Key, int Callers, double Age);
