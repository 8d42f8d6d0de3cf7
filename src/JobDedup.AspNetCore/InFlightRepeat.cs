namespace JobDedup.AspNetCore;

/// <summary>What a repeat of a request gets while the first request with its key is still running.</summary>
public enum InFlightRepeat
{
    /// <summary>The repeat waits for the first request and gets the same response (with the replayed header).</summary>
    Wait,

    /// <summary>The repeat is refused at once with 409 Conflict (problem details); the client may send it again later.</summary>
    Conflict,
}
