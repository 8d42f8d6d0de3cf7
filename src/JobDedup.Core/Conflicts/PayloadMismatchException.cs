namespace JobDedup;

/// <summary>
/// Says that a job's key is in flight, or kept in the dedupe window, with a different payload fingerprint (see
/// <see cref="JobDedupOptions{TJob}.Fingerprint"/>): the job was neither joined nor replayed
/// (<see cref="JobStatus.Conflict"/>). The same key was reused for a different request.
/// </summary>
public sealed class PayloadMismatchException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="PayloadMismatchException"/> class.</summary>
    public PayloadMismatchException()
        : base("The key is already used with a different payload.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="PayloadMismatchException"/> class.</summary>
    /// <param name="message">What differs.</param>
    public PayloadMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="PayloadMismatchException"/> class.</summary>
    /// <param name="message">What differs.</param>
    /// <param name="innerException">The cause.</param>
    public PayloadMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="PayloadMismatchException"/> class.</summary>
    /// <param name="key">The dedupe key.</param>
    /// <param name="fingerprint">This job's fingerprint.</param>
    /// <param name="existingFingerprint">The fingerprint of the flight or kept outcome that holds the key.</param>
    public PayloadMismatchException(string key, string fingerprint, string existingFingerprint)
        : base($"Key '{key}' is already used with a different payload (fingerprint {existingFingerprint}, this job's {fingerprint}).")
    {
        Key = key;
        Fingerprint = fingerprint;
        ExistingFingerprint = existingFingerprint;
    }

    /// <summary>Gets the dedupe key.</summary>
    public string? Key { get; }

    /// <summary>Gets this job's fingerprint.</summary>
    public string? Fingerprint { get; }

    /// <summary>Gets the fingerprint of the flight or kept outcome that holds the key.</summary>
    public string? ExistingFingerprint { get; }
}
