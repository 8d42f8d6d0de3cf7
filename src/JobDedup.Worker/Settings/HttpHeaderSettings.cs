namespace JobDedup.Worker.Settings;

/// <summary>
/// The headers the HTTP forward handler sets on every request, by name. An empty name leaves that header out. Every
/// name must be an HTTP token (letters, digits and <c>!#$%&amp;'*+-.^_`|~</c>); it is checked at start.
/// </summary>
public sealed class HttpHeaderSettings
{
    /// <summary>The default name of the idempotency key header, as the IETF draft names it.</summary>
    public const string DefaultIdempotencyKey = "Idempotency-Key";

    /// <summary>The default name of the attempt header.</summary>
    public const string DefaultAttempt = "X-JobDedup-Attempt";

    /// <summary>The default name of the fencing token header.</summary>
    public const string DefaultFencingToken = "JobDedup-Fencing-Token";

    /// <summary>
    /// Gets or sets the header carrying the dedupe key, percent-encoded as UTF-8 (see docs/worker.md), so that the
    /// endpoint can drop a repeated request (a run repeated after a crash, or a redelivery).
    /// </summary>
    /// <value>The default is <c>Idempotency-Key</c>.</value>
    public string IdempotencyKey { get; set; } = DefaultIdempotencyKey;

    /// <summary>Gets or sets the header carrying the handler attempt (1 for the first).</summary>
    /// <value>The default is <c>X-JobDedup-Attempt</c>.</value>
    public string Attempt { get; set; } = DefaultAttempt;

    /// <summary>
    /// Gets or sets the header carrying the run's fencing token when the pipeline keeps its window in a shared store
    /// (PostgreSQL or Redis): it grows with every new claim on the key, on any worker, so the endpoint can refuse a
    /// write that carries a smaller token than one it already accepted for the key. Without a shared store there is no
    /// token and no header.
    /// </summary>
    /// <value>The default is <c>JobDedup-Fencing-Token</c>.</value>
    public string FencingToken { get; set; } = DefaultFencingToken;

    /// <summary>Gets each header setting with its name in the settings, for validation.</summary>
    internal IEnumerable<(string Setting, string? Name)> Named()
    {
        yield return (nameof(IdempotencyKey), IdempotencyKey);
        yield return (nameof(Attempt), Attempt);
        yield return (nameof(FencingToken), FencingToken);
    }
}
