using System.Globalization;
using System.Security;
using System.Text;
using static JobDedup.Benchmarks.Reporting.Format;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>
/// Draws docs/benchmarks/micro.svg from the measured results: per suite, one bar per implementation for time and one for
/// bytes allocated per operation, each labelled with its value and its ratio to the baseline.
/// </summary>
public static class SvgChart
{
    private const int LabelRight = 365;
    private const int Column1 = 380;
    private const int ColumnWidth = 370;
    private const int BarMax = 220;
    private const int Width = Column1 + (2 * ColumnWidth) + 10;
    private const int RowHeight = 22;
    private const int BarHeight = 14;

    private const string SubjectColor = "#2563eb";
    private const string BaselineColor = "#6b7280";
    private const string OtherColor = "#cbd5e1";

    public static string Render(MicroReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var body = new StringBuilder();
        var y = 20;
        Text(body, 10, y, "JobDedup micro benchmarks (provisional: shared 2-core machine, read the ratios)", "font-size=\"16\" font-weight=\"bold\"");
        y += 20;
        Text(body, 10, y, Invariant($"{report.Finished:yyyy-MM-dd HH:mm} UTC · {report.Machine.Nproc} cores, load average {report.LoadAtStart} at start · {report.Machine.Runtime} · BenchmarkDotNet {report.Machine.BenchmarkDotNet}"), "fill=\"#374151\"");
        y += 20;
        Legend(body, 10, y);
        y += 16;

        foreach (var suite in report.Suites)
        {
            y += 18;
            Text(body, 10, y, suite.Info.Title, "font-size=\"14\" font-weight=\"bold\"");
            y += 18;
            var timeHeader = suite.Info.Id == "pipeline" ? "time per job (lower is better)" : Invariant($"time per {suite.Info.Operation}");
            Text(body, Column1, y, timeHeader, "fill=\"#374151\"");
            Text(body, Column1 + ColumnWidth, y, Invariant($"bytes allocated per {suite.Info.Operation}"), "fill=\"#374151\"");
            y += 6;
            var maxTime = suite.Rows.Max(r => r.MedianNs);
            var maxBytes = suite.Rows.Max(r => r.BytesPerOp ?? 0);
            foreach (var row in suite.Rows)
            {
                var color = row.IsSubject ? SubjectColor : row.IsBaseline ? BaselineColor : OtherColor;
                var label = row.Category.Length > 0 ? Invariant($"{row.Label} [{row.Category}]") : row.Label;
                Text(body, LabelRight, y + BarHeight - 2, label, "text-anchor=\"end\"" + (row.IsSubject ? " font-weight=\"bold\"" : string.Empty));
                Bar(body, Column1, y, row.MedianNs / maxTime, color, Invariant($"{Time(row.MedianNs)} ({Ratio(row.TimeRatio)})"));
                Bar(body, Column1 + ColumnWidth, y, maxBytes > 0 ? (row.BytesPerOp ?? 0) / maxBytes : 0, color, Invariant($"{Bytes(row.BytesPerOp)} ({Ratio(row.BytesRatio)})"));
                y += RowHeight;
            }
        }

        if (report.Load is { } load)
        {
            y += 18;
            Text(body, 10, y, Invariant($"Pipeline load: {load.Jobs:N0} jobs, {load.Keys:N0} keys, {load.Producers} producers (Stopwatch, median of {load.Rounds})"), "font-size=\"14\" font-weight=\"bold\"");
            y += 18;
            Text(body, Column1, y, "jobs per second (higher is better)", "fill=\"#374151\"");
            Text(body, Column1 + ColumnWidth, y, "bytes allocated per job", "fill=\"#374151\"");
            y += 6;
            var maxRate = load.Rows.Max(r => r.JobsPerSecond);
            var maxBytes = load.Rows.Max(r => r.BytesPerJob);
            foreach (var row in load.Rows)
            {
                var color = row.IsSubject ? SubjectColor : row.IsBaseline ? BaselineColor : OtherColor;
                Text(body, LabelRight, y + BarHeight - 2, row.Label, "text-anchor=\"end\"" + (row.IsSubject ? " font-weight=\"bold\"" : string.Empty));
                Bar(body, Column1, y, row.JobsPerSecond / maxRate, color, Invariant($"{row.JobsPerSecond:N0} ({row.JobsPerSecond / load.Baseline.JobsPerSecond:0.00}x)"));
                Bar(body, Column1 + ColumnWidth, y, maxBytes > 0 ? row.BytesPerJob / maxBytes : 0, color, Invariant($"{row.BytesPerJob:0} B"));
                y += RowHeight;
            }
        }

        y += 10;
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{y}\" viewBox=\"0 0 {Width} {y}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Invariant($"<rect width=\"{Width}\" height=\"{y}\" fill=\"#ffffff\"/>"));
        svg.Append(body);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Legend(StringBuilder svg, int x, int y)
    {
        foreach (var (color, name) in new[] { (SubjectColor, "JobDedup"), (BaselineColor, "baseline (ratio 1x)"), (OtherColor, "other implementations") })
        {
            svg.AppendLine(Invariant($"<rect x=\"{x}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{color}\"/>"));
            Text(svg, x + 16, y, name, string.Empty);
            x += 30 + (name.Length * 7);
        }
    }

    private static void Bar(StringBuilder svg, int x, int y, double fraction, string color, string value)
    {
        var width = Math.Max(1, fraction * BarMax);
        svg.AppendLine(string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y}\" width=\"{width:0.#}\" height=\"{BarHeight}\" fill=\"{color}\"/>"));
        Text(svg, (int)(x + width + 6), y + BarHeight - 2, value, string.Empty);
    }

    private static void Text(StringBuilder svg, int x, int y, string text, string attributes) =>
        svg.AppendLine(Invariant($"<text x=\"{x}\" y=\"{y}\" {attributes}>{SecurityElement.Escape(text)}</text>"));
}
