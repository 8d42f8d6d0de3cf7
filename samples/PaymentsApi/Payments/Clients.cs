namespace PaymentsApi.Payments;

/// <summary>
/// Who is calling. The <c>X-Client-Id</c> header stands in for authentication in this sample; a real API takes the
/// client from its credentials (an API key, a token) instead. Idempotency keys are scoped by it, so two clients that
/// happen to choose the same key never share a payment.
/// </summary>
internal static class Clients
{
    /// <summary>The request header that names the client.</summary>
    public const string HeaderName = "X-Client-Id";

    private const int MaxLength = 64;

    /// <summary>Reads the client id of a request.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The client id, or <see langword="null"/> when the request names none or a malformed one.</returns>
    public static string? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Headers[HeaderName] is { Count: 1 } values
            && values[0] is { Length: > 0 and <= MaxLength } id
            && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? id
            : null;
    }

    /// <summary>
    /// Middleware that answers 401 to a request without a usable client id. It runs before the endpoint and its
    /// idempotency filter, so a request the API refuses never claims a key.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The rest of the pipeline: the idempotency filter, then the endpoint.</param>
    /// <returns>A task that completes when the request is answered.</returns>
    public static Task RequireAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return Of(context) is null
            ? Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: $"The {HeaderName} header must name the client: 1 to {MaxLength} letters, digits, '-' or '_'.").ExecuteAsync(context)
            : next(context);
    }
}
