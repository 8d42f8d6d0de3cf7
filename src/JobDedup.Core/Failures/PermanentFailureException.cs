namespace JobDedup;

/// <summary>
/// A failure that will recur on every attempt with the same job (a request the other side refuses, input that cannot
/// be read). Thrown by a handler, it is never retried: the engine ends the flight at once and a message consumer
/// dead-letters the message on its first delivery. The default <see cref="FailureClassification"/> treats it as
/// permanent.
/// </summary>
public class PermanentFailureException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="PermanentFailureException"/> class.</summary>
    public PermanentFailureException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="PermanentFailureException"/> class.</summary>
    /// <param name="message">Why another attempt would fail the same way.</param>
    public PermanentFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="PermanentFailureException"/> class.</summary>
    /// <param name="message">Why another attempt would fail the same way.</param>
    /// <param name="innerException">The failure behind it.</param>
    public PermanentFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
