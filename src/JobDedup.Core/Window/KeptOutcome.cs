namespace JobDedup.Window;

/// <summary>
/// How an outcome goes into the dedupe window and how a kept one answers a duplicate: a success as its value, a kept
/// failure as a <see cref="ReplayedFailureException"/> naming the original exception, and either only to a job whose
/// payload fingerprint matches (see <see cref="FingerprintCheck"/>).
/// </summary>
internal static class KeptOutcome
{
    /// <summary>Returns what the window keeps of a finished run.</summary>
    /// <param name="outcome">The run's outcome: succeeded or failed.</param>
    /// <param name="fingerprint">The payload fingerprint of the flight that ran, or <see langword="null"/>.</param>
    /// <param name="completedAt">When the run ended.</param>
    /// <returns>The outcome to keep.</returns>
    public static StoredOutcome<TResult> From<TResult>(in JobOutcome<TResult> outcome, string? fingerprint, DateTimeOffset completedAt)
    {
        if (outcome.IsSucceeded)
        {
            return new StoredOutcome<TResult>(outcome.Value!, outcome.Attempts, completedAt) { Fingerprint = fingerprint };
        }

        var exception = outcome.Exception!;
        return new StoredOutcome<TResult>(default!, outcome.Attempts, completedAt)
        {
            Fingerprint = fingerprint,
            Failure = new StoredFailure(exception.GetType().FullName ?? exception.GetType().Name, exception.Message),
        };
    }

    /// <summary>Returns the answer a kept outcome gives a duplicate: its replay, or a conflict when the payloads differ.</summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fingerprint">The duplicate's payload fingerprint, or <see langword="null"/>.</param>
    /// <param name="kept">The kept outcome.</param>
    /// <returns>A replayed success or failure (<see cref="JobRole.Replayed"/>), or a <see cref="JobStatus.Conflict"/>.</returns>
    public static JobOutcome<TResult> Answer<TResult>(string key, string? fingerprint, in StoredOutcome<TResult> kept)
    {
        if (FingerprintCheck.TryGetConflict<TResult>(key, fingerprint, kept.Fingerprint, out var conflict))
        {
            return conflict;
        }

        return kept.Failure is { } failure
            ? JobOutcome<TResult>.Failed(key, new ReplayedFailureException(failure), JobRole.Replayed, kept.Attempts)
            : JobOutcome<TResult>.Succeeded(key, kept.Value, JobRole.Replayed, kept.Attempts);
    }
}
