using System.Text;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.Bench.Reporting.Text;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>The results as a fixed-width table, the targets and the findings, for the console.</summary>
internal static class ConsoleTable
{
    public static string Render(BenchReport report)
    {
        var text = new StringBuilder(TextTable.Render(BenchReport.Header, report.Rows()));
        text.AppendLine();
        using (var targets = new StringWriter(text))
        {
            TargetReport.WriteConsole(targets, report.Targets);
        }

        foreach (var finding in report.Findings())
        {
            text.AppendLine("- " + finding);
        }

        return text.ToString();
    }
}
