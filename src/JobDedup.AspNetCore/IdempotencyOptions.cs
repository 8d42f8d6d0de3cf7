using Microsoft.AspNetCore.Http;

namespace JobDedup.AspNetCore;

/// <summary>
/// Settings of idempotent endpoints: where a request's idempotency key comes from, whose key it is, and which responses
/// are kept for repeats. Registered with <c>services.AddIdempotency(...)</c> (the default set, or a named one) and
/// refined per endpoint with <c>WithIdempotency(o =&gt; ...)</c>.
/// </summary>
public sealed class IdempotencyOptions
{
    /// <summary>The name of the request header that carries the key by default.</summary>
    public const string DefaultKeyHeader = "Idempotency-Key";

    /// <summary>The name of the response header that marks a response given to a repeat by default.</summary>
    public const string DefaultReplayedHeader = "Idempotent-Replayed";

    /// <summary>Gets or sets the request header that carries the idempotency key.</summary>
    /// <value>The default is <c>Idempotency-Key</c>.</value>
    public string KeyHeader { get; set; } = DefaultKeyHeader;

    /// <summary>
    /// Gets or sets a function that gives the request's key instead of <see cref="KeyHeader"/> (for example a webhook's
    /// event id from another header). <see langword="null"/> or an empty string means the request has no key.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the key is the value of <see cref="KeyHeader"/>.</value>
    public Func<HttpContext, string?>? KeySelector { get; set; }

    /// <summary>
    /// Gets or sets a function that gives whose key it is (the authenticated user, the tenant, the webhook's sender).
    /// The scope is part of the stored key, so the same key sent by two callers is two keys, never one shared response.
    /// </summary>
    /// <value>The default is <see langword="null"/>: one scope for every caller.</value>
    public Func<HttpContext, string>? Scope { get; set; }

    /// <summary>Gets or sets a value indicating whether a request without a key is refused with 400 Bad Request.</summary>
    /// <value>The default is <see langword="false"/>: a request without a key runs as if the endpoint were not idempotent.</value>
    public bool RequireKey { get; set; }

    /// <summary>
    /// Gets or sets what a repeat gets while the first request with its key is still running, in this instance or
    /// (with a PostgreSQL or Redis store) in another one. Set it on the registered option set.
    /// </summary>
    /// <value>The default is <see cref="InFlightRepeat.Wait"/>.</value>
    public InFlightRepeat WhenInFlight { get; set; } = InFlightRepeat.Wait;

    /// <summary>
    /// Gets or sets how long a kept response answers repeats of its key. After it, the key is new again. Set it on the
    /// registered option set.
    /// </summary>
    /// <value>The default is 24 hours.</value>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Gets or sets the largest response body that is kept. A larger response is still sent to its caller (and to the
    /// repeats that waited for it), but not kept: a later repeat runs the endpoint again, and a log line says so.
    /// </summary>
    /// <value>The default is 1,048,576 (1 MiB).</value>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets the response headers kept with a response and sent again to repeats (names compared without case).</summary>
    /// <value>The default is <c>Location</c> and <c>Content-Type</c>.</value>
    public ISet<string> ReplayHeaders { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Location", "Content-Type" };

    /// <summary>
    /// Gets or sets which client errors (4xx status codes) are kept: <see langword="true"/> keeps the response, so a
    /// repeat gets it again; <see langword="false"/> lets a repeat run the endpoint again. Successes are always kept;
    /// server errors (5xx) and exceptions never are.
    /// </summary>
    /// <value>The default is <see cref="KeepsClientErrorByDefault"/>: every 4xx except 408, 409, 425 and 429.</value>
    public Func<int, bool> KeepClientError { get; set; } = KeepsClientErrorByDefault;

    /// <summary>Gets or sets the response header set to <c>true</c> on a response given to a repeat.</summary>
    /// <value>The default is <c>Idempotent-Replayed</c>.</value>
    public string ReplayedHeader { get; set; } = DefaultReplayedHeader;

    /// <summary>
    /// The default <see cref="KeepClientError"/>: a client error is kept unless it says "try again": 408 Request Timeout,
    /// 409 Conflict, 425 Too Early and 429 Too Many Requests.
    /// </summary>
    /// <param name="statusCode">The response's status code, between 400 and 499.</param>
    /// <returns><see langword="true"/> when the response is kept.</returns>
    public static bool KeepsClientErrorByDefault(int statusCode) => statusCode is not (408 or 409 or 425 or 429);

    /// <summary>Copies these settings, so that one endpoint can refine them without changing the registered set.</summary>
    internal IdempotencyOptions Clone()
    {
        var copy = new IdempotencyOptions
        {
            KeyHeader = KeyHeader,
            KeySelector = KeySelector,
            Scope = Scope,
            RequireKey = RequireKey,
            WhenInFlight = WhenInFlight,
            DedupeWindow = DedupeWindow,
            MaxBodyBytes = MaxBodyBytes,
            KeepClientError = KeepClientError,
            ReplayedHeader = ReplayedHeader,
        };
        copy.ReplayHeaders.Clear();
        copy.ReplayHeaders.UnionWith(ReplayHeaders);
        return copy;
    }

    /// <summary>Lists what is wrong with these settings, each message naming its option.</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (KeySelector is null && string.IsNullOrWhiteSpace(KeyHeader))
        {
            errors.Add($"{nameof(KeyHeader)} must name a header when no {nameof(KeySelector)} is set.");
        }

        if (string.IsNullOrWhiteSpace(ReplayedHeader))
        {
            errors.Add($"{nameof(ReplayedHeader)} must name a header.");
        }

        if (!Enum.IsDefined(WhenInFlight))
        {
            errors.Add($"{nameof(WhenInFlight)} must be Wait or Conflict, not {WhenInFlight}.");
        }

        if (DedupeWindow <= TimeSpan.Zero || DedupeWindow > TimeSpan.FromDays(365))
        {
            errors.Add($"{nameof(DedupeWindow)} must be greater than zero and at most 365 days, not {DedupeWindow}.");
        }

        if (MaxBodyBytes < 0)
        {
            errors.Add($"{nameof(MaxBodyBytes)} must not be negative, not {MaxBodyBytes}.");
        }

        if (KeepClientError is null)
        {
            errors.Add($"{nameof(KeepClientError)} must be set (the default is IdempotencyOptions.KeepsClientErrorByDefault).");
        }

        return errors;
    }
}
