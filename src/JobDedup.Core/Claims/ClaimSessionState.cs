namespace JobDedup.Claims;

/// <summary>Where one <see cref="ClaimSession{TResult}"/> stands: it holds its key, lost it while running, or ended.</summary>
internal enum ClaimSessionState
{
    /// <summary>Granted, and renewed on time: the run owns the key.</summary>
    Held,

    /// <summary>
    /// The store said another claim holds the key, or renewals failed until the lease lapsed: the handler's token
    /// fired, and the run's outcome is not kept.
    /// </summary>
    Lost,

    /// <summary>Completed or released (after being held or lost): renewals have stopped.</summary>
    Ended,
}
