using System.Globalization;
using System.Security;
using System.Text;

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

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"13\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left}\" y=\"28\" font-size=\"17\" font-weight=\"bold\">JobDedup web load test: latency of each request, with and without SharedCall</text>\n"));
        svg.Append(Invariant($"<text x=\"{Left}\" y=\"50\" fill=\"#555\">{requests} requests for one product per run; each query takes {server.QuerySeconds:0.###} s; pool of {server.MaxPoolSize} connections; measured {Escape(measuredAt)}</text>\n"));

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
                var stroke = step == 1.0 ? "#bbb" : "#e6e6e6";
                svg.Append(Invariant($"<line x1=\"{Left:F1}\" y1=\"{y:F1}\" x2=\"{Left + plotWidth:F1}\" y2=\"{y:F1}\" stroke=\"{stroke}\"/>\n"));
                svg.Append(Invariant($"<text x=\"{Left - 8:F1}\" y=\"{y + 4:F1}\" text-anchor=\"end\" fill=\"#444\">{value.ToString("0.###", CultureInfo.InvariantCulture)} s</text>\n"));
            }
        }

        for (var percent = 0; percent <= 100; percent += 10)
        {
            var x = X(percent);
            svg.Append(Invariant($"<line x1=\"{x:F1}\" y1=\"{Top:F1}\" x2=\"{x:F1}\" y2=\"{Top + PlotHeight:F1}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x:F1}\" y=\"{Top + PlotHeight + 18:F1}\" text-anchor=\"middle\" fill=\"#444\">{percent}%</text>\n"));
        }

        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#888\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left + (plotWidth / 2):F1}\" y=\"{Top + PlotHeight + 40:F1}\" text-anchor=\"middle\">requests of the run, fastest to slowest</text>\n"));
        svg.Append(Invariant($"<text transform=\"translate(22 {Top + (PlotHeight / 2):F1}) rotate(-90)\" text-anchor=\"middle\">latency (log scale)</text>\n"));

        var query = Y(server.QuerySeconds);
        svg.Append(Invariant($"<line x1=\"{Left:F1}\" y1=\"{query:F1}\" x2=\"{Left + plotWidth:F1}\" y2=\"{query:F1}\" stroke=\"#666\" stroke-dasharray=\"2 4\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Left + plotWidth - 6:F1}\" y=\"{query + 16:F1}\" text-anchor=\"end\" fill=\"#666\">one query: {server.QuerySeconds:0.###} s</text>\n"));

        foreach (var run in runs)
        {
            var points = new StringBuilder();
            var count = run.Latencies.Count;
            for (var i = 0; i < count; i++)
            {
                points.Append(Invariant($"{X((i + 0.5) / count * 100):F1},{Y(run.Latencies[i]):F1} "));
            }

            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{Color(run)}\" stroke-width=\"2.5\"{Dash(run)} points=\"{points.ToString().TrimEnd()}\"/>\n"));
        }

        // Legend under the plot, one entry per run.
        var legendY = Top + PlotHeight + 70;
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var x = Left;
            var y = legendY + (i * 22);
            var label = Invariant(
                $"{run.Endpoint}, {Describe.ShortName(run.Shape)}: median {Describe.Seconds(run.Percentile(50))}, slowest {Describe.Seconds(run.Max)}, whole run {Describe.Seconds(run.DurationSeconds)}");
            svg.Append(Invariant($"<line x1=\"{x:F1}\" y1=\"{y - 4:F1}\" x2=\"{x + 34:F1}\" y2=\"{y - 4:F1}\" stroke=\"{Color(run)}\" stroke-width=\"3\"{Dash(run)}/>\n"));
            svg.Append(Invariant($"<text x=\"{x + 42:F1}\" y=\"{y:F1}\">{Escape(label)}</text>\n"));
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Color(RunResult run) => run.Endpoint == "coalesced" ? CoalescedColor : NormalColor;

    private static string Dash(RunResult run) => run.Shape == LoadShape.Workers ? " stroke-dasharray=\"8 5\"" : string.Empty;

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
