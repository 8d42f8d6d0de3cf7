namespace JobDedup;

/// <summary>The kinds of <see cref="DuplicatePolicy"/>: what happens to a job whose key is already in flight.</summary>
public enum DuplicatePolicyKind
{
    /// <summary>The duplicate joins the flight and gets its outcome.</summary>
    Join,

    /// <summary>The duplicate is refused (<see cref="JobStatus.Rejected"/>) while the key is in flight.</summary>
    Reject,

    /// <summary>The duplicate's payload replaces that of a flight whose handler has not started yet; it then joins.</summary>
    Replace,

    /// <summary>At most one run plus one pending run carrying the latest payload: no trigger is lost while a run is in progress.</summary>
    KeepLatest,

    /// <summary>The run starts once the key has been quiet for a delay, extended by each arrival, never later than a maximum wait.</summary>
    Debounce,

    /// <summary>After a run, repeats within a window get its outcome without a run.</summary>
    Throttle,
}
