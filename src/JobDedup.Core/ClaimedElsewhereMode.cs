namespace JobDedup;

/// <summary>What a flight does when another instance holds its key in a claiming outcome store.</summary>
public enum ClaimedElsewhereMode
{
    /// <summary>Wait for the other instance's outcome (or for its claim to lapse) and share it.</summary>
    Wait,

    /// <summary>Return a <see cref="JobStatus.Rejected"/> outcome at once; a RabbitMQ consumer parks such deliveries and retries them later.</summary>
    Reject,
}
