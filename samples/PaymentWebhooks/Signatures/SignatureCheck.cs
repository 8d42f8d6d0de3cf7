namespace PaymentWebhooks.Signatures;

/// <summary>What checking a webhook's signature found. Only <see cref="Valid"/> lets the webhook in.</summary>
internal enum SignatureCheck
{
    /// <summary>A signature matches the body and the timestamp is within the tolerance.</summary>
    Valid,

    /// <summary>The request has no signature header.</summary>
    Missing,

    /// <summary>The header is not <c>t=…,v1=…</c>.</summary>
    Malformed,

    /// <summary>No signature in the header matches the body and timestamp.</summary>
    Mismatch,

    /// <summary>A signature matches, but its timestamp is too far from the clock (an old request sent again).</summary>
    OutsideTolerance,
}
