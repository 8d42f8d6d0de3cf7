namespace JobDedup.AspNetCore.Execution;

/// <summary>Maps the engine's outcome for a request that did not run its endpoint to what it sends back. Pure.</summary>
internal static class OutcomeDecision
{
    public static OutcomeAction Decide(JobStatus status, InFlightRepeat whenInFlight, bool clientGone) => status switch
    {
        JobStatus.Succeeded => OutcomeAction.Replay,
        JobStatus.Failed => OutcomeAction.RunFailed,
        JobStatus.Conflict => OutcomeAction.Mismatch,
        JobStatus.Rejected when whenInFlight == InFlightRepeat.Conflict => OutcomeAction.InFlight,
        JobStatus.Canceled when clientGone => OutcomeAction.ClientGone,
        _ => OutcomeAction.Unavailable,
    };
}
