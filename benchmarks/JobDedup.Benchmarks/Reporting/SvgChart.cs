using JobDedup.Bench.Reporting.Svg;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>
/// Draws docs/benchmarks/micro.svg from the measured results: per suite, one bar per implementation for time and one for
/// bytes allocated per operation, each labelled with its value and its ratio to the baseline.
/// </summary>
public static class SvgChart
{
    private const int Column1 = 380;
    private const int ColumnWidth = 370;
    private const int Width = Column1 + (2 * ColumnWidth) + 10;
    private static readonly BarLayout Rows = new(LabelRight: 365, BarMax: 220, RowHeight: 22, BarHeight: 14);
    private const string Muted = "fill=\"" + SvgPalette.Muted + "\"";

    public static string Render(MicroReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var svg = new SvgDocument();
        var run = report.Run;
        var y = 20.0;
        svg.Text(10, y, "JobDedup micro benchmarks (provisional: shared machine, read the ratios)", SvgPalette.Title);
        y += 20;
        svg.Text(10, y, Invariant($"{run.Started:yyyy-MM-dd HH:mm} UTC · commit {run.Revision.ShortCommit} · {run.Machine.Nproc} cores, load average {run.LoadAtStart} at start · {run.Machine.Runtime} · BenchmarkDotNet {report.BenchmarkDotNet}"), Muted);
        y += 20;
        var x = 10.0;
        foreach (var (color, name) in new[] { (SvgPalette.Subject, "JobDedup"), (SvgPalette.Baseline, "baseline (ratio 1x)"), (SvgPalette.Other, "other implementations") })
        {
            x = svg.Swatch(x, y, color, name);
        }

        y += 16;
        foreach (var suite in report.Suites)
        {
            y += 18;
            svg.Text(10, y, suite.Info.Title, "font-size=\"14\" font-weight=\"bold\"");
            y += 18;
            svg.Text(Column1, y, suite.Info.Id == "pipeline" ? "time per job (lower is better)" : Invariant($"time per {suite.Info.Operation}"), Muted);
            svg.Text(Column1 + ColumnWidth, y, Invariant($"bytes allocated per {suite.Info.Operation}"), Muted);
            y += 6;
            var maxTime = suite.Rows.Max(r => r.MedianNs);
            var maxBytes = suite.Rows.Max(r => r.BytesPerOp ?? 0);
            foreach (var row in suite.Rows)
            {
                var color = SvgPalette.For(row.IsSubject, row.IsBaseline);
                var label = row.Category.Length > 0 ? Invariant($"{row.Label} [{row.Category}]") : row.Label;
                Rows.Label(svg, y, label, row.IsSubject);
                Rows.Bar(svg, Column1, y, row.MedianNs / maxTime, color, Invariant($"{Time(row.MedianNs)} ({Ratio(row.TimeRatio)})"));
                Rows.Bar(svg, Column1 + ColumnWidth, y, maxBytes > 0 ? (row.BytesPerOp ?? 0) / maxBytes : 0, color, Invariant($"{Bytes(row.BytesPerOp)} ({Ratio(row.BytesRatio)})"));
                y += Rows.RowHeight;
            }
        }

        if (report.Load is { } load)
        {
            y += 18;
            svg.Text(10, y, Invariant($"Pipeline load: {load.Jobs:N0} jobs, {load.Keys:N0} keys, {load.Producers} producers (Stopwatch, median of {load.Rounds})"), "font-size=\"14\" font-weight=\"bold\"");
            y += 18;
            svg.Text(Column1, y, "jobs per second (higher is better)", Muted);
            svg.Text(Column1 + ColumnWidth, y, "bytes allocated per job", Muted);
            y += 6;
            var maxRate = load.Rows.Max(r => r.JobsPerSecond);
            var maxBytes = load.Rows.Max(r => r.BytesPerJob);
            foreach (var row in load.Rows)
            {
                var color = SvgPalette.For(row.IsSubject, row.IsBaseline);
                Rows.Label(svg, y, row.Label, row.IsSubject);
                Rows.Bar(svg, Column1, y, row.JobsPerSecond / maxRate, color, Invariant($"{row.JobsPerSecond:N0} ({row.JobsPerSecond / load.Baseline.JobsPerSecond:0.00}x)"));
                Rows.Bar(svg, Column1 + ColumnWidth, y, maxBytes > 0 ? row.BytesPerJob / maxBytes : 0, color, Invariant($"{row.BytesPerJob:0} B"));
                y += Rows.RowHeight;
            }
        }

        return svg.Render(Width, y + 10);
    }
}
