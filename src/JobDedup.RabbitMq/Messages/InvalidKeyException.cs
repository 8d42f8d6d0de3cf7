namespace JobDedup.RabbitMq;

/// <summary>A key rule found a key it cannot use (for example a key header of the wrong type); the message is dead-lettered as <c>invalid-key</c>.</summary>
public sealed class InvalidKeyException : FormatException
{
    /// <summary>Initializes a new instance of the <see cref="InvalidKeyException"/> class.</summary>
    public InvalidKeyException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InvalidKeyException"/> class.</summary>
    /// <param name="message">Why the key cannot be used.</param>
    public InvalidKeyException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InvalidKeyException"/> class.</summary>
    /// <param name="message">Why the key cannot be used.</param>
    /// <param name="innerException">The failure behind it.</param>
    public InvalidKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
