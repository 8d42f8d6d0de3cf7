using BenchmarkDotNet.Loggers;

namespace JobDedup.Benchmarks;

/// <summary>
/// Shows BenchmarkDotNet's progress without its per-iteration lines: which benchmark runs, how long is left, the
/// warnings, and each suite's summary table.
/// </summary>
public sealed class ProgressLogger(TextWriter output) : ILogger
{
    private bool _lineShown;
    private Section _section;

    private enum Section
    {
        Running,
        Details,
        Summary,
    }

    public string Id => nameof(ProgressLogger);

    public int Priority => 0;

    public void Write(LogKind logKind, string text)
    {
        if (Shows(logKind, text))
        {
            output.Write(text);
            _lineShown = true;
        }
    }

    public void WriteLine()
    {
        if (_lineShown)
        {
            output.WriteLine();
            _lineShown = false;
        }
    }

    public void WriteLine(LogKind logKind, string text)
    {
        if (Shows(logKind, text))
        {
            output.WriteLine(text);
            _lineShown = false;
        }
    }

    public void Flush() => output.Flush();

    private bool Shows(LogKind logKind, string text)
    {
        // The summary table is written cell by cell, so whole sections are shown or hidden, not single writes.
        if (text.StartsWith("// * Detailed results *", StringComparison.Ordinal))
        {
            _section = Section.Details;
        }
        else if (text.StartsWith("// * Summary *", StringComparison.Ordinal))
        {
            _section = Section.Summary;
        }
        else if (text.StartsWith("// * Legends *", StringComparison.Ordinal) || text.StartsWith("// ***** BenchmarkRunner: Start", StringComparison.Ordinal))
        {
            _section = Section.Running;
        }

        return _section switch
        {
            Section.Summary => logKind != LogKind.Help,
            Section.Details => false,
            _ => logKind is LogKind.Error or LogKind.Warning or LogKind.Hint
                || text.StartsWith("// Benchmark:", StringComparison.Ordinal)
                || text.StartsWith("// ** Remained", StringComparison.Ordinal)
                || text.StartsWith("Mean = ", StringComparison.Ordinal),
        };
    }
}
