namespace JobDedup;

/// <summary>
/// The run's claim on its key in a claiming (durable) outcome store was lost while its handler ran: the store says
/// another claim now holds the key (this instance stalled past its lease, or its owner looked dead to the store), or
/// renewals kept failing until the lease had lapsed. The handler's token fires with this exception, the run's outcome
/// is not kept, and its callers get a <see cref="JobStatus.Canceled"/> outcome carrying it. A caller that asks again
/// is answered by the key's new owner (its outcome, once kept).
/// </summary>
public sealed class ClaimLostException : OperationCanceledException
{
    /// <summary>Initializes a new instance of the <see cref="ClaimLostException"/> class.</summary>
    public ClaimLostException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClaimLostException"/> class.</summary>
    /// <param name="message">Which claim was lost, and how.</param>
    public ClaimLostException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClaimLostException"/> class.</summary>
    /// <param name="message">Which claim was lost, and how.</param>
    /// <param name="innerException">The renewal failure that let the lease lapse, if any.</param>
    public ClaimLostException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ClaimLostException"/> class.</summary>
    /// <param name="message">Which claim was lost, and how.</param>
    /// <param name="innerException">The renewal failure that let the lease lapse, if any.</param>
    /// <param name="token">The token that fired.</param>
    public ClaimLostException(string message, Exception? innerException, CancellationToken token)
        : base(message, innerException, token)
    {
    }
}
