namespace JobDedup.Bench.Reporting.Text;

/// <summary>Reads a benchmark tool's options, given as <c>--name value</c> pairs.</summary>
public static class CommandLine
{
    /// <summary>
    /// The value after the last <paramref name="name"/> in <paramref name="args"/>, or <see langword="null"/> when it is
    /// not given (or is last, with no value after it). The last one wins: the scripts pass their defaults (the page's
    /// folder, the command quoted on it) before the arguments a reader adds, so that a reader's own value counts.
    /// </summary>
    public static string? Option(string[] args, string name)
    {
        ArgumentNullException.ThrowIfNull(args);
        var index = Array.LastIndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
