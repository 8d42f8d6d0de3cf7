using System.Net;

namespace JobDedup.Worker.Handlers;

/// <summary>
/// The endpoint refused the message (a 4xx answer other than 408 or 429), or the request could not be built (a header
/// value an HTTP header cannot carry): another try would fail the same way, so it is never retried and the message is
/// dead-lettered as <c>permanent-failure</c>.
/// </summary>
public sealed class HttpPermanentFailureException : PermanentFailureException
{
    /// <summary>Initializes a new instance of the <see cref="HttpPermanentFailureException"/> class.</summary>
    public HttpPermanentFailureException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HttpPermanentFailureException"/> class.</summary>
    /// <param name="message">What the endpoint answered.</param>
    public HttpPermanentFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HttpPermanentFailureException"/> class.</summary>
    /// <param name="message">What the endpoint answered.</param>
    /// <param name="innerException">The cause.</param>
    public HttpPermanentFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="HttpPermanentFailureException"/> class.</summary>
    /// <param name="message">What the endpoint answered.</param>
    /// <param name="statusCode">The status code.</param>
    public HttpPermanentFailureException(string message, HttpStatusCode statusCode)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Gets the status code the endpoint answered with.</summary>
    public HttpStatusCode? StatusCode { get; }
}
