namespace JobDedup.RabbitMq;

/// <summary>The broker did not take a published message: it refused it, could not route it, or the connection failed.</summary>
public sealed class JobPublishException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="JobPublishException"/> class.</summary>
    public JobPublishException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="JobPublishException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public JobPublishException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="JobPublishException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public JobPublishException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
