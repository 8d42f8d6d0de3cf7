namespace JobDedup;

/// <summary>A moment's view of a deduplicator's flights, from <see cref="IJobDeduplicator{TJob, TResult}.GetInFlight"/>.</summary>
/// <param name="Count">Keys in flight.</param>
/// <param name="OldestAge">The age of the oldest flight, or zero when none is in flight.</param>
/// <param name="Hottest">The flights with the most callers attached, most first (as many as were asked for).</param>
public sealed record InFlightSnapshot(int Count, TimeSpan OldestAge, IReadOnlyList<InFlightKey> Hottest)
{
    /// <summary>Gets the view of a deduplicator with nothing in flight.</summary>
    public static InFlightSnapshot Empty { get; } = new(0, TimeSpan.Zero, []);
}
