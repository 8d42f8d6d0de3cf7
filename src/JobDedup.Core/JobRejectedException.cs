namespace JobDedup;

/// <summary>Says why a job was refused before reaching a flight (see <see cref="JobStatus.Rejected"/>).</summary>
public sealed class JobRejectedException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="JobRejectedException"/> class.</summary>
    public JobRejectedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="JobRejectedException"/> class.</summary>
    /// <param name="message">Why the job was refused.</param>
    public JobRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="JobRejectedException"/> class.</summary>
    /// <param name="message">Why the job was refused.</param>
    /// <param name="innerException">The cause.</param>
    public JobRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
