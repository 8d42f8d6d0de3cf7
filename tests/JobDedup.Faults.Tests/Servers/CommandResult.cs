namespace JobDedup.Faults.Tests.Servers;

/// <summary>How a command ended and what it printed (standard output and error, interleaved).</summary>
internal sealed record CommandResult(int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws, naming the command's purpose and its output, unless it succeeded.</summary>
    public CommandResult OrThrow(string what) =>
        Succeeded ? this : throw new InvalidOperationException($"Could not {what} (exit code {ExitCode}): {Output}");
}
