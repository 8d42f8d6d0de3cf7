namespace JobDedup.Claims;

/// <summary>How one try to complete a claim with its outcome ended.</summary>
internal enum ClaimCompletion
{
    /// <summary>The outcome is in the store: durable, and answered to every instance.</summary>
    Completed,

    /// <summary>The store refused it: the claim lapsed and a newer one owns the key (or the key was forgotten).</summary>
    Refused,

    /// <summary>The store could not be reached or failed; the claim may still hold, and the completion can be tried again.</summary>
    Failed,
}
