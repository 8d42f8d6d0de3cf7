namespace JobDedup;

/// <summary>A finished run's outcome as the retention classifier (<see cref="JobDedupOptions{TJob}.Retention"/>) sees it.</summary>
/// <param name="Key">The dedupe key.</param>
/// <param name="Status">How the run ended: <see cref="JobStatus.Succeeded"/> or <see cref="JobStatus.Failed"/>.</param>
/// <param name="Value">The handler's value for a success (boxed); <see langword="null"/> for a failure.</param>
/// <param name="Exception">The final attempt's exception for a failure; <see langword="null"/> for a success.</param>
/// <param name="DedupeWindow">The deduplicator's <see cref="JobDedupOptions{TJob}.DedupeWindow"/>.</param>
public readonly record struct OutcomeRetentionContext(string Key, JobStatus Status, object? Value, Exception? Exception, TimeSpan DedupeWindow);
