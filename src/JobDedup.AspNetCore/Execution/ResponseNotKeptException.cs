namespace JobDedup.AspNetCore.Execution;

/// <summary>
/// Carries a response that must not be kept (a server error, a client error the classifier does not keep, a body over
/// the cap) out of the engine as a failure, which the engine never keeps; the repeats that waited for the run still
/// get the response from it.
/// </summary>
internal sealed class ResponseNotKeptException : Exception
{
    public ResponseNotKeptException()
        : base("The response is not kept.")
    {
    }

    public ResponseNotKeptException(string message)
        : base(message)
    {
    }

    public ResponseNotKeptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ResponseNotKeptException(IdempotentResponse response, string reason)
        : base($"The response ({response.StatusCode}) is not kept: {reason}.")
    {
        Response = response;
    }

    /// <summary>Gets the response, for the caller that produced it and the repeats that waited for it.</summary>
    public IdempotentResponse? Response { get; }
}
