namespace JobDedup.Flights;

/// <summary>
/// Reads the flight table into an <see cref="InFlightSnapshot"/>: one pass over a copy of the table, off the hot path
/// (nothing is locked, and a flight that ends meanwhile may still be listed).
/// </summary>
internal static class InFlightView
{
    /// <param name="owners">The table's owners (a moment's copy).</param>
    /// <param name="now">The clock's timestamp now.</param>
    /// <param name="time">The clock the flights' start timestamps come from.</param>
    /// <param name="hottest">How many of the flights with the most callers to list.</param>
    public static InFlightSnapshot Take<TJob, TResult>(KeyOwner<string>[] owners, long now, TimeProvider time, int hottest)
    {
        var count = 0;
        var oldest = TimeSpan.Zero;

        // The smallest of the hottest on top, so that a hotter flight replaces it.
        var top = hottest > 0 ? new PriorityQueue<InFlightKey, (int Callers, TimeSpan Age)>(hottest + 1) : null;
        foreach (var owner in owners)
        {
            if (owner is not JobFlight<TJob, TResult> flight || owner.IsReleased)
            {
                continue; // a forget's barrier holds the key, not a flight
            }

            count++;
            var started = flight.StartedAt;
            var age = started == 0 || now < started ? TimeSpan.Zero : time.GetElapsedTime(started, now);
            if (age > oldest)
            {
                oldest = age;
            }

            if (top is not null)
            {
                var callers = flight.AttachedCount;
                top.Enqueue(new InFlightKey(flight.Key, age, callers), (callers, age));
                if (top.Count > hottest)
                {
                    top.Dequeue();
                }
            }
        }

        if (top is null || top.Count == 0)
        {
            return count == 0 ? InFlightSnapshot.Empty : new InFlightSnapshot(count, oldest, []);
        }

        var listed = new InFlightKey[top.Count];
        for (var i = listed.Length - 1; i >= 0; i--)
        {
            listed[i] = top.Dequeue();
        }

        return new InFlightSnapshot(count, oldest, listed);
    }
}
