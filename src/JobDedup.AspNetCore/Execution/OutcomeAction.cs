namespace JobDedup.AspNetCore.Execution;

/// <summary>What a request that did not run its endpoint sends back, by the engine's outcome.</summary>
internal enum OutcomeAction
{
    /// <summary>The response of the run it shared (joined or replayed, kept or not), marked as replayed.</summary>
    Replay,

    /// <summary>500: the run it waited for threw.</summary>
    RunFailed,

    /// <summary>422: the key is held by a different request.</summary>
    Mismatch,

    /// <summary>409: the key's first request is still running (in-flight repeats refused).</summary>
    InFlight,

    /// <summary>503: the request could not be taken now (the key's waiters or the queue full, the store down, shutting down).</summary>
    Unavailable,

    /// <summary>Nothing: the client went away.</summary>
    ClientGone,
}
