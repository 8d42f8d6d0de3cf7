namespace JobDedup;

/// <summary>
/// Says that the deduplicator's outcome store could not be used: a call to it failed, or it was not called at all
/// because the store failed repeatedly and calls to it are paused for a while (<see cref="IsCircuitOpen"/>). A job
/// that meets it before its handler runs ends as <see cref="JobStatus.Unavailable"/>: it did not run and is not
/// counted as a failure.
/// </summary>
public sealed class OutcomeStoreUnavailableException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="OutcomeStoreUnavailableException"/> class.</summary>
    public OutcomeStoreUnavailableException()
        : base("The outcome store is unavailable.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OutcomeStoreUnavailableException"/> class.</summary>
    /// <param name="message">What could not be done.</param>
    public OutcomeStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OutcomeStoreUnavailableException"/> class.</summary>
    /// <param name="message">What could not be done.</param>
    /// <param name="innerException">The store's own failure, or the refusal of the paused call.</param>
    public OutcomeStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal OutcomeStoreUnavailableException(string message, Exception innerException, bool isCircuitOpen)
        : base(message, innerException)
    {
        IsCircuitOpen = isCircuitOpen;
    }

    /// <summary>
    /// Gets a value indicating whether the store was not called at all, because calls to it are paused after
    /// repeated failures; <see langword="false"/> when the store was called and failed (the inner exception says how).
    /// </summary>
    public bool IsCircuitOpen { get; }
}
