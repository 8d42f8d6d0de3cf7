namespace JobDedup.Conflicts;

/// <summary>What the dispatcher does with an arriving job, as <see cref="DuplicateDecision"/> decides.</summary>
internal enum DuplicateAction
{
    /// <summary>No flight to join: read the window (when nobody holds the key) or start a flight after the holder.</summary>
    NewFlight,

    /// <summary>Join the flight and get its outcome.</summary>
    Join,

    /// <summary>Refuse the job: <see cref="JobStatus.Rejected"/>.</summary>
    Reject,

    /// <summary>Join the flight, and make this job the one its handler runs (while the handler has not started).</summary>
    ReplaceJob,

    /// <summary>Join the flight, make this job the one it runs, and push its debounced start back.</summary>
    Extend,

    /// <summary>
    /// Start the key's pending flight behind the one that holds it: it runs once the holder ended, with the latest
    /// job, and is never answered by the holder's outcome.
    /// </summary>
    StartPending,
}
