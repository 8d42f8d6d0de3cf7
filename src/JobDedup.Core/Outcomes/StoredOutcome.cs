namespace JobDedup;

/// <summary>An outcome kept for the dedupe window: a success, or a failure the retention classifier chose to keep.</summary>
/// <typeparam name="TResult">The handler's result type.</typeparam>
/// <param name="Value">The value the handler returned; the default for a kept failure.</param>
/// <param name="Attempts">The attempts the original flight made.</param>
/// <param name="CompletedAt">When the original flight completed.</param>
public readonly record struct StoredOutcome<TResult>(TResult Value, int Attempts, DateTimeOffset CompletedAt)
{
    /// <summary>Gets the payload fingerprint of the job that produced the outcome (see <see cref="JobDedupOptions{TJob}.Fingerprint"/>).</summary>
    /// <value>The default is <see langword="null"/>: no fingerprint, so any payload may be answered by it.</value>
    public string? Fingerprint { get; init; }

    /// <summary>Gets, for a kept failure, what the final attempt failed with; <see langword="null"/> for a success.</summary>
    public StoredFailure? Failure { get; init; }
}
