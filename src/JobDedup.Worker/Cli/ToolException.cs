namespace JobDedup.Worker.Cli;

/// <summary>A failure of a dead-letter command that the tool reports in one line, with nothing lost.</summary>
internal sealed class ToolException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ToolException"/> class.</summary>
    public ToolException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ToolException"/> class.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public ToolException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ToolException"/> class.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ToolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
