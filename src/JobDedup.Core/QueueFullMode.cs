namespace JobDedup;

/// <summary>What <c>EnqueueAsync</c> does when the deduplicator's queue is full.</summary>
public enum QueueFullMode
{
    /// <summary>Wait for room, honouring the caller's cancellation token.</summary>
    Wait,

    /// <summary>Return at once with a <see cref="JobStatus.Rejected"/> outcome.</summary>
    Reject,
}
