using Polly.Timeout;

namespace JobDedup;

/// <summary>
/// An attempt timed out and its handler kept running although its token fired. The flight fails with this
/// exception and is not retried, so the job never runs twice at once; the next flight for the key waits (up to the
/// attempt timeout) for that handler to end before it starts.
/// </summary>
public sealed class HandlerStuckException : TimeoutRejectedException
{
    /// <summary>Initializes a new instance of the <see cref="HandlerStuckException"/> class.</summary>
    public HandlerStuckException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HandlerStuckException"/> class.</summary>
    /// <param name="message">What is stuck.</param>
    public HandlerStuckException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HandlerStuckException"/> class.</summary>
    /// <param name="message">What is stuck.</param>
    /// <param name="innerException">The cancellation the handler ignored.</param>
    public HandlerStuckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
