namespace JobDedup.LoadTest;

/// <summary>Prints a run the way the original demo's load-test script did: one box per endpoint.</summary>
internal static class ResultTable
{
    private const int Width = 64;

    public static void Print(TextWriter console, RunResult run)
    {
        var title = $"{run.Endpoint.ToUpperInvariant()} ENDPOINT RESULTS ({Describe.ShortName(run.Shape)})";
        console.WriteLine("╔" + new string('═', Width) + "╗");
        console.WriteLine("║" + Center(title) + "║");
        console.WriteLine("╠" + new string('═', Width) + "╣");
        Row(console, "Total Requests:", run.Total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row(console, "Successful:", run.Successful.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row(console, "Failed:", run.Failed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row(console, "Total Duration:", Describe.Seconds(run.DurationSeconds));
        Row(console, "Requests/sec:", Describe.Rate(run.RequestsPerSecond));
        Row(console, string.Empty, string.Empty);
        Row(console, "Response Times (ms):", string.Empty);
        Row(console, "  Min:", Describe.Ms(run.Min));
        Row(console, "  Max:", Describe.Ms(run.Max));
        Row(console, "  Average:", Describe.Ms(run.Average));
        Row(console, "  p50 (median):", Describe.Ms(run.Percentile(50)));
        Row(console, "  p95:", Describe.Ms(run.Percentile(95)));
        Row(console, "  p99:", Describe.Ms(run.Percentile(99)));
        Row(console, string.Empty, string.Empty);
        Row(console, "Database queries:", run.Server.DatabaseQueries.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (run.Endpoint == "coalesced")
        {
            Row(console, "Shared results (hits):", run.Server.Hits.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Row(console, "Hit rate:", Describe.Percent(run.Server.HitRate));
        }

        foreach (var (reason, count) in run.FailureReasons())
        {
            Row(console, "Failed because:", FormattableString.Invariant($"{reason} ×{count}"));
        }

        console.WriteLine("╚" + new string('═', Width) + "╝");
    }

    private static void Row(TextWriter console, string label, string value)
    {
        var text = $" {label,-23}{value}";
        console.WriteLine("║" + text.PadRight(Width) + "║");
    }

    private static string Center(string text)
    {
        var left = Math.Max(0, (Width - text.Length) / 2);
        return (new string(' ', left) + text).PadRight(Width);
    }
}
