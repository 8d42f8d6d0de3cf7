using System.Globalization;
using System.Text;
using JobDedup.Bench.Reporting.Markdown;
using JobDedup.Bench.Reporting.Targets;

namespace JobDedup.LoadTest;

/// <summary>Writes docs/benchmarks/web.md from one run of the tool; every number in it comes from that run.</summary>
internal static class MarkdownReport
{
    public static string Render(ReportData data)
    {
        var md = new StringBuilder();
        var s = data.Server;
        var floor = data.Requests * s.QuerySeconds / s.MaxPoolSize;
        var headline = data.Comparisons.FirstOrDefault(c => c.Shape == LoadShape.Waves) ?? (data.Comparisons.Count > 0 ? data.Comparisons[0] : null);

        Line(md, "# Web load test: a PostgreSQL-backed API with and without SharedCall");
        Line(md);
        RunSections.AppendProvenance(md, data.Run);
        if (headline is not null)
        {
            Line(md, "## Result");
            Line(md);
            foreach (var c in data.Comparisons)
            {
                Line(md, $"- **{Describe.ShortName(c.Shape)}**: coalesced {Describe.Rate(c.Coalesced.RequestsPerSecond)} req/s vs normal {Describe.Rate(c.Normal.RequestsPerSecond)} req/s: "
                    + $"**{Describe.Ratio(c.Ratio)}** the throughput ({Describe.Seconds(c.Normal.DurationSeconds)} → {Describe.Seconds(c.Coalesced.DurationSeconds)}), "
                    + $"{c.Normal.Server.DatabaseQueries} → {c.Coalesced.Server.DatabaseQueries} database queries.");
            }

            Line(md, "- Reference, not measured here: the original FastAPI demo reported 104 s / 9.6 req/s without coalescing and");
            Line(md, "  3.84 s / 260 req/s with it (27x).");
            Line(md);
        }

        TargetReport.AppendMarkdown(md, data.Targets);

        Line(md, "## Method");
        Line(md);
        Line(md, "- Server: `samples/JobDedup.WebApi`, an ASP.NET Core minimal API built in Release and bound to 127.0.0.1.");
        Line(md, $"  It reads through Npgsql with `Max Pool Size={s.MaxPoolSize}` and a query that takes {Number(s.QuerySeconds)} s in PostgreSQL:");
        Line(md, "  `SELECT id, name, price, pg_sleep(@delay) FROM products WHERE id = @id`.");
        Line(md, "  - `/product/normal/{id}` sends the query for every request.");
        Line(md, "  - `/product/coalesced/{id}` sends it through `SharedCall<int, Product?>`: concurrent requests for the same id");
        Line(md, "    share one query and its result.");
        Line(md, "  - A request may wait up to 120 s for a pooled connection (Npgsql's default of 15 s would turn the normal");
        Line(md, "    endpoint's queue into errors instead of measuring it).");
        Line(md, $"- Database: PostgreSQL on 127.0.0.1 from `scripts/postgres.sh` (a throwaway cluster unless one already answers), table");
        Line(md, "  `products` with 1,000 rows.");
        Line(md, $"- Load: {data.Requests} GET requests for product {data.ProductId} per run, one run per endpoint and load shape:");
        foreach (var shape in data.Runs.Select(r => r.Shape).Distinct())
        {
            Line(md, $"  - {Describe.Title(shape, data.Requests, data.Concurrency)}.");
        }

        Line(md, "- Each run opens new HTTP connections, as the original's curl processes did. Before each run, 10 requests to the same");
        Line(md, "  endpoint, on connections of their own, warm up the server and its pool; they are not counted, and the server's");
        Line(md, "  counters are reset after them.");
        Line(md, "- Latency: measured in the client from just before sending to the end of the body. Min, average, max and");
        Line(md, "  percentiles (nearest rank) cover the successful requests: status 200 with the requested product in the body.");
        Line(md, "  Duration: from the first request sent to the last answer; req/s = requests / duration.");
        Line(md, "- Database queries: counted by the API itself and read from its `/stats` after the run.");
        Line(md);

        RunSections.AppendMachine(md, data.Run, $"PostgreSQL: {s.Postgres}.", "Load generator, API and PostgreSQL share the machine.");
        RunSections.AppendCommand(md, data.Run);

        foreach (var c in data.Comparisons)
        {
            Line(md, $"## Results: {Describe.ShortName(c.Shape)}");
            Line(md);
            Line(md, Describe.Title(c.Shape, data.Requests, data.Concurrency) + ".");
            Line(md);
            MarkdownTable.Append(
                md,
                [string.Empty, "normal", "coalesced"],
                [
                    Row("Total requests", c.Normal.Total, c.Coalesced.Total),
                    Row("Successful", c.Normal.Successful, c.Coalesced.Successful),
                    Row("Failed", c.Normal.Failed, c.Coalesced.Failed),
                    Row("Duration", Describe.Seconds(c.Normal.DurationSeconds), Describe.Seconds(c.Coalesced.DurationSeconds)),
                    Row("Requests/s", Describe.Rate(c.Normal.RequestsPerSecond), Describe.Rate(c.Coalesced.RequestsPerSecond)),
                    Row("Latency min (ms)", Describe.Ms(c.Normal.Min), Describe.Ms(c.Coalesced.Min)),
                    Row("Latency avg (ms)", Describe.Ms(c.Normal.Average), Describe.Ms(c.Coalesced.Average)),
                    Row("Latency max (ms)", Describe.Ms(c.Normal.Max), Describe.Ms(c.Coalesced.Max)),
                    Row("Latency p50 (ms)", Describe.Ms(c.Normal.Percentile(50)), Describe.Ms(c.Coalesced.Percentile(50))),
                    Row("Latency p95 (ms)", Describe.Ms(c.Normal.Percentile(95)), Describe.Ms(c.Coalesced.Percentile(95))),
                    Row("Latency p99 (ms)", Describe.Ms(c.Normal.Percentile(99)), Describe.Ms(c.Coalesced.Percentile(99))),
                    Row("Database queries", c.Normal.Server.DatabaseQueries, c.Coalesced.Server.DatabaseQueries),
                    Row("Shared results (hits)", "–", c.Coalesced.Server.Hits),
                ]);
            Line(md, $"Coalesced vs normal: **{Describe.Ratio(c.Ratio)}** the requests per second.");
            foreach (var run in new[] { c.Normal, c.Coalesced }.Where(r => r.Failed > 0))
            {
                Line(md);
                Line(md, $"{run.Endpoint} failures: " + string.Join(", ", run.FailureReasons().Select(f => $"{f.Reason} ×{f.Count}")) + ".");
            }

            Line(md);
        }

        Line(md, "## Latency of each request");
        Line(md);
        Line(md, "![Latency of each request, sorted, with and without SharedCall](web-latency.svg)");
        Line(md);
        Line(md, "Each line is one run: its successful requests sorted from fastest to slowest, on a log scale. Solid lines are the");
        Line(md, "original load shape, dashed lines the closed loop; orange is the normal endpoint, blue the coalesced one.");
        Line(md);

        Line(md, "## Reading the numbers");
        Line(md);
        Line(md, $"- Without coalescing, each request holds one of {s.MaxPoolSize} connections for {Number(s.QuerySeconds)} s, so {data.Requests} requests");
        Line(md, $"  cannot finish in less than {data.Requests} × {Number(s.QuerySeconds)} s / {s.MaxPoolSize} = {Number(floor)} s, whatever the load shape;");
        Line(md, "  the requests queue for the pool, and the last ones wait for almost the whole run.");
        Line(md, "- With coalescing, requests for the same product that arrive while a query is running share it.");
        if (data.Comparisons.FirstOrDefault(c => c.Shape == LoadShape.Waves) is { } waves)
        {
            Line(md, $"  In the original shape every request is in flight at once, so {waves.Coalesced.Server.DatabaseQueries} "
                + $"{(waves.Coalesced.Server.DatabaseQueries == 1 ? "query" : "queries")} answered all {waves.Coalesced.Total} and the run took "
                + $"{Describe.Seconds(waves.Coalesced.DurationSeconds)}.");
            Line(md, $"  Most of that is the queries themselves and opening {waves.Coalesced.Total} new connections on this machine, so this ratio moves");
            Line(md, "  from run to run with how busy the machine is; the normal run's time does not.");
        }
        if (data.Comparisons.Any(c => c.Shape == LoadShape.Workers))
        {
            var rounds = (double)data.Requests / data.Concurrency;
            Line(md, "- In the closed loop a worker sends its next request only after the last one is answered, so each worker's");
            Line(md, $"  {Number(rounds)} requests take at least {Number(rounds)} × {Number(s.QuerySeconds)} s = {Number(rounds * s.QuerySeconds)} s even when every one of them");
            Line(md, $"  shares a query. That caps the ratio at about {Number(floor)} s / {Number(rounds * s.QuerySeconds)} s = "
                + $"{Describe.Ratio(floor / (rounds * s.QuerySeconds))} (workers ÷ pool size)");
            Line(md, "  for this shape, whatever the coalescing does; more workers per pooled connection raise the cap.");
        }

        return md.ToString();
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string[] Row(string label, object normal, object coalesced) =>
        [label, Convert.ToString(normal, CultureInfo.InvariantCulture) ?? string.Empty, Convert.ToString(coalesced, CultureInfo.InvariantCulture) ?? string.Empty];

    private static void Line(StringBuilder md, string text = "") => md.Append(text).Append('\n');
}
