using JobDedup.Bench.Reporting.Svg;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>
/// Draws docs/benchmarks/rabbitmq.svg from the measured rates: one bar per consumer, labelled with its msg/s and its
/// ratio to the raw consumer, and the two targets as lines (raw and MassTransit multiples).
/// </summary>
internal static class SvgChart
{
    private const int BarLeft = 340;
    private const int BarMax = 420;
    private const int Width = BarLeft + BarMax + 200;
    private const int RowHeight = 30;
    private const int BarHeight = 18;
    private static readonly BarLayout Rows = new(LabelRight: 330, BarMax, RowHeight, BarHeight);
    private const string RawTargetColor = "#dc2626";
    private const string MassTransitTargetColor = "#16a34a";

    public static string Render(BenchReport report)
    {
        var svg = new SvgDocument();
        var o = report.Options;
        var y = 22;
        svg.Text(10, y, "RabbitMQ consumer throughput, messages acked per second (higher is better)", SvgPalette.Title);
        y += 20;
        svg.Text(10, y, Invariant($"{report.Run.Started:yyyy-MM-dd HH:mm} UTC · commit {report.Run.Revision.ShortCommit} · {o.Messages:N0} messages per run · prefetch {o.Prefetch} · median of {report.RoundsRun} round(s) · {report.Run.Machine.Nproc} cores shared with the broker (noisy)"), "fill=\"" + SvgPalette.Muted + "\"");
        y += 24;

        var max = Math.Max(1, report.Summaries.Max(s => s.Rate));
        var rawTarget = report.Raw.Ok ? BenchReport.RawTarget * report.Raw.Rate : (double?)null;
        var massTransitTarget = report.MassTransit.Ok ? BenchReport.MassTransitTarget * report.MassTransit.Rate : (double?)null;
        max = Math.Max(max, Math.Max(rawTarget ?? 0, massTransitTarget ?? 0)) * 1.02;
        var top = y;
        foreach (var summary in report.Summaries)
        {
            var s = summary.Scenario;
            Rows.Label(svg, y, s.IsReference ? s.Label + " (reference)" : s.Label, s.IsSubject);
            var value = summary.Ok ? Invariant($"{summary.Rate:N0} msg/s ({Ratio(report.RatioToRaw(summary))} raw)") : "failed";
            Rows.Bar(svg, BarLeft, y, summary.Ok ? summary.Rate / max : 0, SvgPalette.For(s.IsSubject, s.IsBaseline, s.IsReference), value);
            y += RowHeight;
        }

        // Target lines go under the bars and their labels.
        var bottom = y - (RowHeight - BarHeight);
        y += 8;
        if (rawTarget is { } raw)
        {
            TargetLine(svg.Underlay, raw / max, top, bottom, RawTargetColor, Invariant($"{BenchReport.RawTarget:0.0#}x raw"));
            Legend(svg, 10, y, RawTargetColor, Invariant($"target: {BenchReport.RawTarget:0.0#}x the raw consumer ({raw:N0} msg/s)"));
            y += 18;
        }

        if (massTransitTarget is { } masstransit)
        {
            TargetLine(svg.Underlay, masstransit / max, top, bottom, MassTransitTargetColor, Invariant($"{BenchReport.MassTransitTarget:0.0#}x MassTransit"));
            Legend(svg, 10, y, MassTransitTargetColor, Invariant($"target: {BenchReport.MassTransitTarget:0.0#}x MassTransit ({masstransit:N0} msg/s)"));
            y += 18;
        }

        return svg.Render(Width, y + 6);
    }

    private static void TargetLine(SvgDocument svg, double fraction, int top, int bottom, string color, string label)
    {
        var x = BarLeft + (fraction * BarMax);
        svg.Line(x, top - 4, x, bottom + 4, color, "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"");
        svg.Text(x + 3, bottom + 14, label, Invariant($"fill=\"{color}\" font-size=\"11\""));
    }

    private static void Legend(SvgDocument svg, int x, int y, string color, string text)
    {
        svg.Line(x, y + 10, x + 20, y + 10, color, "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"");
        svg.Text(x + 26, y + 14, text);
    }
}
