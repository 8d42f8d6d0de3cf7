namespace JobDedup;

/// <summary>What a flight does when its key is <see cref="ClaimState.Busy"/>: another instance holds it in a claiming outcome store.</summary>
public enum BusyKeyMode
{
    /// <summary>Wait for the other instance's outcome (or for its claim to lapse) and share it.</summary>
    Wait,

    /// <summary>Return a <see cref="JobStatus.Rejected"/> outcome at once; a RabbitMQ consumer parks such deliveries and retries them later.</summary>
    Reject,
}
