using System.Text;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>The results as a fixed-width table and the targets, for the console.</summary>
internal static class ConsoleTable
{
    public static string Render(BenchReport report)
    {
        var rows = new List<string[]> { BenchReport.Header.ToArray() };
        rows.AddRange(report.Rows());
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
            if (index == 0)
            {
                text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        text.AppendLine();
        text.AppendLine("targets:");
        foreach (var target in report.Targets)
        {
            text.AppendLine(BenchReport.Invariant($"  {(target.Met ? "met   " : "MISSED")}  {target.Name}: {BenchReport.Format(target.Ratio)} (wanted {target.Wanted})"));
            if (target.Why is { } why)
            {
                text.AppendLine("          " + why);
            }
        }

        foreach (var finding in report.Findings())
        {
            text.AppendLine("- " + finding);
        }

        return text.ToString();
    }
}
