using System.Security;
using System.Text;
using static JobDedup.RabbitMqBench.Reporting.BenchReport;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>
/// Draws docs/benchmarks/rabbitmq.svg from the measured rates: one bar per consumer, labelled with its msg/s and its
/// ratio to the raw consumer, and the two targets as lines (0.95x raw, 2x MassTransit).
/// </summary>
internal static class SvgChart
{
    private const int LabelRight = 330;
    private const int BarLeft = 340;
    private const int BarMax = 420;
    private const int Width = BarLeft + BarMax + 200;
    private const int RowHeight = 30;
    private const int BarHeight = 18;

    private const string SubjectColor = "#2563eb";
    private const string BaselineColor = "#6b7280";
    private const string OtherColor = "#94a3b8";
    private const string ReferenceColor = "#e2e8f0";

    public static string Render(BenchReport report)
    {
        var body = new StringBuilder();
        var o = report.Options;
        var y = 22;
        Text(body, 10, y, "RabbitMQ consumer throughput, messages acked per second (higher is better)", "font-size=\"16\" font-weight=\"bold\"");
        y += 20;
        Text(body, 10, y, Invariant($"{report.Started:yyyy-MM-dd HH:mm} UTC · {o.Messages:N0} messages per run · prefetch {o.Prefetch} · median of {report.RoundsRun} round(s) · {report.Machine.Nproc} cores shared with the broker (noisy)"), "fill=\"#374151\"");
        y += 24;

        var max = Math.Max(1, report.Summaries.Max(s => s.Rate));
        var rawTarget = report.Raw.Ok ? RawTarget * report.Raw.Rate : (double?)null;
        var massTransitTarget = report.MassTransit.Ok ? MassTransitTarget * report.MassTransit.Rate : (double?)null;
        max = Math.Max(max, Math.Max(rawTarget ?? 0, massTransitTarget ?? 0)) * 1.02;
        var top = y;
        foreach (var summary in report.Summaries)
        {
            var s = summary.Scenario;
            var color = s.IsSubject ? SubjectColor : s.IsBaseline ? BaselineColor : s.IsReference ? ReferenceColor : OtherColor;
            Text(body, LabelRight, y + BarHeight - 4, s.IsReference ? s.Label + " (reference)" : s.Label, "text-anchor=\"end\"" + (s.IsSubject ? " font-weight=\"bold\"" : string.Empty));
            var width = summary.Ok ? Math.Max(1, summary.Rate / max * BarMax) : 1;
            body.AppendLine(Invariant($"<rect x=\"{BarLeft}\" y=\"{y}\" width=\"{width:0.#}\" height=\"{BarHeight}\" fill=\"{color}\"/>"));
            var value = summary.Ok ? Invariant($"{summary.Rate:N0} msg/s ({Format(report.RatioToRaw(summary))} raw)") : "failed";
            Text(body, (int)(BarLeft + width + 6), y + BarHeight - 4, value, string.Empty);
            y += RowHeight;
        }

        // Target lines go under the bars and their labels.
        var bottom = y - (RowHeight - BarHeight);
        var lines = new StringBuilder();
        y += 8;
        if (rawTarget is { } raw)
        {
            TargetLine(lines, raw / max, top, bottom, "#dc2626", "0.95x raw");
            Legend(body, 10, y, "#dc2626", Invariant($"target: 0.95x the raw consumer ({raw:N0} msg/s)"));
            y += 18;
        }

        if (massTransitTarget is { } masstransit)
        {
            TargetLine(lines, masstransit / max, top, bottom, "#16a34a", "2x MassTransit");
            Legend(body, 10, y, "#16a34a", Invariant($"target: 2x MassTransit ({masstransit:N0} msg/s)"));
            y += 18;
        }

        y += 6;
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{y}\" viewBox=\"0 0 {Width} {y}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Invariant($"<rect width=\"{Width}\" height=\"{y}\" fill=\"#ffffff\"/>"));
        svg.Append(lines);
        svg.Append(body);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void TargetLine(StringBuilder svg, double fraction, int top, int bottom, string color, string label)
    {
        var x = BarLeft + (fraction * BarMax);
        svg.AppendLine(Invariant($"<line x1=\"{x:0.#}\" y1=\"{top - 4}\" x2=\"{x:0.#}\" y2=\"{bottom + 4}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>"));
        Text(svg, (int)x + 3, bottom + 14, label, Invariant($"fill=\"{color}\" font-size=\"11\""));
    }

    private static void Legend(StringBuilder svg, int x, int y, string color, string text)
    {
        svg.AppendLine(Invariant($"<line x1=\"{x}\" y1=\"{y + 10}\" x2=\"{x + 20}\" y2=\"{y + 10}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>"));
        Text(svg, x + 26, y + 14, text, string.Empty);
    }

    private static void Text(StringBuilder svg, int x, int y, string text, string attributes) =>
        svg.AppendLine(Invariant($"<text x=\"{x}\" y=\"{y}\" {attributes}>{SecurityElement.Escape(text)}</text>"));
}
