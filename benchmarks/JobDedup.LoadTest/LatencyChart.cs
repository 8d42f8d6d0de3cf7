using JobDedup.Bench.Reporting.Svg;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.LoadTest;

/// <summary>Draws every request's latency, sorted, one line per run, on a log scale: an SVG written by this tool.</summary>
internal static class LatencyChart
{
    private const double Width = 880;
    private const double Height = 580;
    private const double Left = 84;
    private const double Right = 24;
    private const double Top = 70;
    private const double PlotHeight = 340;
    private const string NormalColor = "#d9480f";
    private const string CoalescedColor = "#1971c2";

    public static string Render(IReadOnlyList<RunResult> runs, ServerInfo server, int requests, string measuredAt)
    {
        var plotWidth = Width - Left - Right;
        var all = runs.SelectMany(r => r.Latencies).Append(server.QuerySeconds).Where(v => v > 0).ToList();
        var low = Math.Pow(10, Math.Floor(Math.Log10(all.Min())));
        var high = Math.Pow(10, Math.Ceiling(Math.Log10(all.Max())));
        double Y(double seconds) => Top + PlotHeight - ((Math.Log10(seconds) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)) * PlotHeight);
        double X(double percent) => Left + (percent / 100 * plotWidth);

        var svg = new SvgDocument();
        svg.Text(Left, 28, "JobDedup web load test: latency of each request, with and without SharedCall", "font-size=\"17\" font-weight=\"bold\"");
        svg.Text(Left, 50, Invariant($"{requests} requests for one product per run; each query takes {server.QuerySeconds:0.###} s; pool of {server.MaxPoolSize} connections; measured {measuredAt}"), "fill=\"#555\"");

        // Grid: 1, 2 and 5 of every decade on the latency axis, every 10 % on the request axis.
        for (var decade = low; decade < high * 1.001; decade *= 10)
        {
            foreach (var step in new[] { 1.0, 2.0, 5.0 })
            {
                var value = decade * step;
                if (value > high * 1.001)
                {
                    break;
                }

                var y = Y(value);
                svg.Line(Left, y, Left + plotWidth, y, step == 1.0 ? "#bbb" : "#e6e6e6");
                svg.Text(Left - 8, y + 4, Invariant($"{value:0.###} s"), "text-anchor=\"end\" fill=\"#444\"");
            }
        }

        for (var percent = 0; percent <= 100; percent += 10)
        {
            var x = X(percent);
            svg.Line(x, Top, x, Top + PlotHeight, "#eee");
            svg.Text(x, Top + PlotHeight + 18, Invariant($"{percent}%"), "text-anchor=\"middle\" fill=\"#444\"");
        }

        svg.Rect(Left, Top, plotWidth, PlotHeight, "none", "stroke=\"#888\"");
        svg.Text(Left + (plotWidth / 2), Top + PlotHeight + 40, "requests of the run, fastest to slowest", "text-anchor=\"middle\"");
        svg.Text(0, 0, "latency (log scale)", Invariant($"transform=\"translate(22 {Top + (PlotHeight / 2):0.#}) rotate(-90)\" text-anchor=\"middle\""));

        var query = Y(server.QuerySeconds);
        svg.Line(Left, query, Left + plotWidth, query, "#666", "stroke-dasharray=\"2 4\"");
        svg.Text(Left + plotWidth - 6, query + 16, Invariant($"one query: {server.QuerySeconds:0.###} s"), "text-anchor=\"end\" fill=\"#666\"");

        foreach (var run in runs)
        {
            var count = run.Latencies.Count;
            svg.Polyline(run.Latencies.Select((latency, i) => (X((i + 0.5) / count * 100), Y(latency))), Color(run), "stroke-width=\"2.5\"" + Dash(run));
        }

        // Legend under the plot, one entry per run.
        var legendY = Top + PlotHeight + 70;
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var y = legendY + (i * 22);
            svg.Line(Left, y - 4, Left + 34, y - 4, Color(run), "stroke-width=\"3\"" + Dash(run));
            svg.Text(Left + 42, y, Invariant(
                $"{run.Endpoint}, {Describe.ShortName(run.Shape)}: median {Describe.Seconds(run.Percentile(50))}, slowest {Describe.Seconds(run.Max)}, whole run {Describe.Seconds(run.DurationSeconds)}"));
        }

        return svg.Render(Width, Height, "sans-serif", 13);
    }

    private static string Color(RunResult run) => run.Endpoint == "coalesced" ? CoalescedColor : NormalColor;

    private static string Dash(RunResult run) => run.Shape == LoadShape.Workers ? " stroke-dasharray=\"8 5\"" : string.Empty;
}
