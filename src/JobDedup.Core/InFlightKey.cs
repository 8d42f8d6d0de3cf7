namespace JobDedup;

/// <summary>One key in flight, as <see cref="InFlightSnapshot"/> lists it.</summary>
/// <param name="Key">The dedupe key. Keys can be personal data: show them only where that is allowed.</param>
/// <param name="Age">How long its flight has been running.</param>
/// <param name="Callers">The callers attached to its flight now: its leader and the duplicates that joined it.</param>
public readonly record struct InFlightKey(string Key, TimeSpan Age, int Callers);
