namespace JobDedup;

/// <summary>How a job ended for one caller.</summary>
public enum JobStatus
{
    /// <summary>The handler returned a value (now, or within the dedupe window).</summary>
    Succeeded,

    /// <summary>The handler failed after its final attempt; <see cref="JobOutcome{TResult}.Exception"/> holds why.</summary>
    Failed,

    /// <summary>The caller's token fired, every caller left, or the deduplicator shut down before an outcome was known.</summary>
    Canceled,

    /// <summary>The job was refused before it reached a flight: the queue or the key's waiter list was full.</summary>
    Rejected,

    /// <summary>
    /// The outcome store could not be reached, or is paused after repeated failures, so the job did not run and was
    /// not counted as a failure; <see cref="JobOutcome{TResult}.Exception"/> is an <see cref="OutcomeStoreUnavailableException"/>.
    /// Submit it again once the store is back (see <see cref="IOutcomeStoreMonitor"/>).
    /// </summary>
    Unavailable,

    /// <summary>
    /// The key is in flight, or kept in the dedupe window, with a different payload fingerprint (see
    /// <see cref="JobDedupOptions{TJob}.Fingerprint"/>): the job was neither joined nor replayed, and did not run;
    /// <see cref="JobOutcome{TResult}.Exception"/> is a <see cref="PayloadMismatchException"/>.
    /// </summary>
    Conflict,
}
