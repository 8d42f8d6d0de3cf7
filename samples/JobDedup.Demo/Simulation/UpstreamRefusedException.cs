namespace JobDedup.Demo.Simulation;

/// <summary>The upstream refused a request because it was over the rate limit.</summary>
internal sealed class UpstreamRefusedException : Exception
{
    public UpstreamRefusedException()
    {
    }

    public UpstreamRefusedException(string message)
        : base(message)
    {
    }

    public UpstreamRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
