namespace JobDedup.Flights;

/// <summary>Where a flight is in its life. A flight moves forward only: Pending → Running → Completed, or to Abandoned.</summary>
internal enum FlightPhase
{
    /// <summary>Created; waiting for its key, the dedupe window, a claim or a handler slot. Callers may join.</summary>
    Pending = 0,

    /// <summary>The handler was started. Callers may join.</summary>
    Running = 1,

    /// <summary>Every caller left; the handler token fired. Nobody may join; the key stays held until the handler ends.</summary>
    Abandoned = 2,

    /// <summary>The outcome was delivered. Nobody may join; the key stays held until the handler ended and the window was written.</summary>
    Completed = 3,
}
