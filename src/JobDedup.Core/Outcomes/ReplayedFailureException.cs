namespace JobDedup;

/// <summary>
/// The exception of a replayed failure: a kept failure (see <see cref="JobDedupOptions{TJob}.Retention"/>) given to a
/// duplicate from the dedupe window. It carries the original exception's type name and message.
/// </summary>
public sealed class ReplayedFailureException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ReplayedFailureException"/> class.</summary>
    public ReplayedFailureException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ReplayedFailureException"/> class.</summary>
    /// <param name="message">The original exception's message.</param>
    public ReplayedFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ReplayedFailureException"/> class.</summary>
    /// <param name="message">The original exception's message.</param>
    /// <param name="innerException">The cause.</param>
    public ReplayedFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ReplayedFailureException"/> class.</summary>
    /// <param name="failure">The kept failure.</param>
    public ReplayedFailureException(StoredFailure failure)
        : base((failure ?? throw new ArgumentNullException(nameof(failure))).Message)
    {
        OriginalType = failure.ExceptionType;
    }

    /// <summary>Gets the full name of the original exception's type.</summary>
    public string? OriginalType { get; }
}
