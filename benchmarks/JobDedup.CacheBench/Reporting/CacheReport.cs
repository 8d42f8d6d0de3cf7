using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using JobDedup.CacheBench.Scenarios;

namespace JobDedup.CacheBench.Reporting;

/// <summary>Writes docs/benchmarks/cache.md and its chart from one run's results.</summary>
internal sealed class CacheReport(
    IReadOnlyList<ColdKeyResult> cold,
    IReadOnlyList<ProcessesResult> processes,
    IReadOnlyList<HotKeyResult> hot,
    IReadOnlyList<WarmKeyResult> warm,
    string command)
{
    private static readonly string[] Colors = ["#2f6fdf", "#e07b2a", "#5a9e4b", "#8c5bb5"];

    public string Markdown()
    {
        var jobdedupHot = hot.First(h => h.Contender.StartsWith("JobDedup", StringComparison.Ordinal));
        var peersHot = hot.Where(h => h != jobdedupHot).ToArray();
        var jobdedupWarm = warm.First(w => w.Contender == "JobDedup SharedCache");
        var fusionWarm = warm.First(w => w.Contender.StartsWith("FusionCache", StringComparison.Ordinal));
        var md = new StringBuilder();
        md.AppendLine("# Cache benchmark: stampedes, refreshes and hits on one Redis");
        md.AppendLine();
        md.AppendLine(Invariant($"Produced by `{command}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, Redis from Debian's redis-server on 127.0.0.1. The machine was shared with other builds, so times are indicative; the database-hit counts are exact."));
        md.AppendLine();
        md.AppendLine("The \"database\" is a query that takes 50 ms and counts its runs (across processes, with an INCR in Redis). Contenders: naive cache-aside (GET, then query and SET on a miss), JobDedup's `SharedCache` with its defaults and an in-memory level, HybridCache 10.11 over Microsoft.Extensions.Caching.StackExchangeRedis, and FusionCache 2.9 with Redis as distributed cache, its Redis distributed locker and backplane, and eager refresh at 90% of the duration.");
        md.AppendLine();
        md.AppendLine("![cache benchmark](cache.svg)");
        md.AppendLine();
        md.AppendLine("## 1. The seed's demo: 500 concurrent requests on a cold key, one process");
        md.AppendLine();
        md.AppendLine("| contender | database hits | time | distinct values returned |");
        md.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var r in cold)
        {
            md.AppendLine(Invariant($"| {r.Contender} | {r.DatabaseHits} | {r.Took.TotalMilliseconds:F0} ms | {r.DistinctValues} |"));
        }

        md.AppendLine();
        md.AppendLine("## 2. Four processes on one Redis, 125 concurrent requests each, cold key");
        md.AppendLine();
        md.AppendLine("| contender | database hits (target: 1) | time |");
        md.AppendLine("| --- | ---: | ---: |");
        foreach (var r in processes)
        {
            md.AppendLine(Invariant($"| {Label(r.Contender)} | {r.DatabaseHits} | {r.Took.TotalMilliseconds:F0} ms |"));
        }

        md.AppendLine();
        md.AppendLine("## 3. A hot key across its expiry under steady load");
        md.AppendLine();
        md.AppendLine("16 clients ask for one key in a loop (a 1 ms pause between requests) for 13 s; the time to live is 3 s. A request is counted \"around a refresh\" when it starts within half a second of a query (the value being rebuilt, at or before its expiry); the rest are the steady state. Latencies in milliseconds.");
        md.AppendLine();
        md.AppendLine("| contender | refreshes | steady p50 | steady p99 | steady p99.9 | around a refresh p50 | p99 | p99.9 | max | requests over 10 ms | requests |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in hot)
        {
            md.AppendLine(Invariant($"| {r.Contender} | {r.Refreshes} | {r.SteadyP50:F3} | {r.SteadyP99:F3} | {r.SteadyP999:F3} | {r.AroundP50:F3} | {r.AroundP99:F3} | {r.AroundP999:F3} | {r.AroundMax:F1} | {r.SlowRequests} | {r.Requests:N0} |"));
        }

        md.AppendLine();
        md.AppendLine("With 16 clients only a handful of requests meet an expired entry, so p99 hides them; p99.9, the maximum and the count of requests over 10 ms (a 50 ms rebuild waited for) show who made callers wait.");

        md.AppendLine();
        md.AppendLine("## 4. Hits per second on a warm key");
        md.AppendLine();
        md.AppendLine("8 concurrent loops for 3 s. Redis commands per request come from `INFO stats` (total_commands_processed) before and after.");
        md.AppendLine();
        md.AppendLine("| contender | hits per second | Redis commands per request |");
        md.AppendLine("| --- | ---: | ---: |");
        foreach (var r in warm)
        {
            md.AppendLine(Invariant($"| {r.Contender} | {r.HitsPerSecond:N0} | {r.RedisCommandsPerRequest:F3} |"));
        }

        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        var one = processes.First(p => p.Contender == "jobdedup").DatabaseHits == 1;
        var ratio = jobdedupHot.AroundP99 / jobdedupHot.SteadyP99;
        var lower = peersHot.All(p => jobdedupHot.AroundP99 < p.AroundP99);
        md.AppendLine(Invariant($"- 1 database hit for JobDedup across four processes: **{(one ? "met" : "missed")}** ({processes.First(p => p.Contender == "jobdedup").DatabaseHits})."));
        md.AppendLine(Invariant($"- JobDedup's p99 around a refresh ≤ 1.5x its steady p99: **{(ratio <= 1.5 ? "met" : "missed")}** ({jobdedupHot.AroundP99:F3} ms against {jobdedupHot.SteadyP99:F3} ms, {ratio:F2}x)."));
        md.AppendLine(Invariant($"- … and lower than both peers': **{(lower ? "met" : "missed")}** ({string.Join(", ", peersHot.Select(p => $"{p.Contender} {p.AroundP99:F3} ms"))}); requests that waited over 10 ms: JobDedup {jobdedupHot.SlowRequests}, {string.Join(", ", peersHot.Select(p => $"{p.Contender} {p.SlowRequests}"))}."));
        md.AppendLine(Invariant($"- Warm-key hits per second ≥ FusionCache's: **{(jobdedupWarm.HitsPerSecond >= fusionWarm.HitsPerSecond ? "met" : "missed")}** ({jobdedupWarm.HitsPerSecond:N0} against {fusionWarm.HitsPerSecond:N0})."));
        return md.ToString();
    }

    public string Svg()
    {
        // Two panels: database hits across four processes; p99 around a refresh against the steady p99.
        const int width = 760;
        const int rowHeight = 26;
        var svg = new StringBuilder();
        var height = 90 + (processes.Count * rowHeight) + 70 + (hot.Count * rowHeight * 2) + 30;
        svg.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>"));
        var y = 24;
        svg.AppendLine(Invariant($"<text x=\"10\" y=\"{y}\" font-size=\"14\" font-weight=\"bold\">Database hits: 4 processes x 125 concurrent requests on a cold key (lower is better)</text>"));
        y += 16;
        var maxHits = Math.Max(1, processes.Max(p => p.DatabaseHits));
        for (var i = 0; i < processes.Count; i++)
        {
            var p = processes[i];
            var bar = 420.0 * p.DatabaseHits / maxHits;
            svg.AppendLine(Invariant($"<text x=\"10\" y=\"{y + 16}\">{Escape(Label(p.Contender))}</text>"));
            svg.AppendLine(Invariant($"<rect x=\"290\" y=\"{y + 4}\" width=\"{bar:F1}\" height=\"16\" fill=\"{Colors[i % Colors.Length]}\"/>"));
            svg.AppendLine(Invariant($"<text x=\"{295 + bar:F1}\" y=\"{y + 16}\">{p.DatabaseHits}</text>"));
            y += rowHeight;
        }

        y += 40;
        svg.AppendLine(Invariant($"<text x=\"10\" y=\"{y}\" font-size=\"14\" font-weight=\"bold\">Hot key, p99.9 latency (ms): steady state and around a refresh (lower is better)</text>"));
        y += 16;
        var maxMs = Math.Max(0.001, hot.Max(h => Math.Max(h.SteadyP999, h.AroundP999)));
        for (var i = 0; i < hot.Count; i++)
        {
            var h = hot[i];
            foreach (var (label, value, opacity) in new[] { ("steady", h.SteadyP999, "0.45"), ("around a refresh", h.AroundP999, "1") })
            {
                var bar = 420.0 * value / maxMs;
                svg.AppendLine(Invariant($"<text x=\"10\" y=\"{y + 16}\">{Escape(h.Contender.Split(' ')[0])}: {label}</text>"));
                svg.AppendLine(Invariant($"<rect x=\"290\" y=\"{y + 4}\" width=\"{Math.Max(1, bar):F1}\" height=\"16\" fill=\"{Colors[i % Colors.Length]}\" fill-opacity=\"{opacity}\"/>"));
                svg.AppendLine(Invariant($"<text x=\"{295 + Math.Max(1, bar):F1}\" y=\"{y + 16}\">{value:F2}</text>"));
                y += rowHeight;
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Label(string contender) => contender switch
    {
        "jobdedup" => "JobDedup SharedCache",
        "hybrid" => "HybridCache + Redis",
        "fusion" => "FusionCache + Redis locker + backplane",
        _ => contender,
    };

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
