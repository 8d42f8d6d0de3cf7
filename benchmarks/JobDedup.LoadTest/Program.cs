using System.Diagnostics;
using System.Globalization;
using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.LoadTest;

// Sends the original demo's load (1,000 requests for one product) to the web sample's normal and coalesced endpoints,
// prints what it measured, and writes docs/benchmarks/web.md with a latency chart.
LoadTestOptions? options;
string? error;
try
{
    options = LoadTestOptions.Parse(args, out error);
}
catch (FormatException ex)
{
    options = null;
    error = ex.Message;
}

if (options is null)
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(LoadTestOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var clock = Stopwatch.StartNew();
using var management = new HttpClient { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(30) };
var api = new ApiClient(management);
var server = await api.AboutAsync(cancel.Token);
var toolCommand = RunInfo.InvocationOf(typeof(LoadRunner).Assembly, args);
var recording = await RunInfo.StartAsync("benchmarks/JobDedup.LoadTest", options.Command ?? toolCommand, toolCommand);
var machine = recording.AtStart.Machine;
var measuredAt = recording.AtStart.Started.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

Console.WriteLine($"JobDedup web load test against {options.Url}");
Console.WriteLine($"  server: Max Pool Size={server.MaxPoolSize}, query {server.QuerySeconds:0.###} s, {server.Postgres}");
Console.WriteLine($"  machine: {machine.Nproc} cores ({machine.CpuModel}), .NET SDK {machine.DotnetSdk}, commit {recording.AtStart.Revision.ShortCommit}");
Console.WriteLine();

var runner = new LoadRunner(options.Url!, options.Requests, options.Concurrency, options.ProductId, Console.Out);
var runs = new List<RunResult>();
try
{
    foreach (var shape in options.Shapes)
    {
        Console.WriteLine(Describe.Title(shape, options.Requests, options.Concurrency));
        foreach (var endpoint in new[] { "normal", "coalesced" })
        {
            var floor = options.Requests * server.QuerySeconds / server.MaxPoolSize;
            Console.WriteLine(endpoint == "normal"
                ? $"  {endpoint}: every request queries PostgreSQL; expect at least {floor:0.#} s ({options.Requests} × {server.QuerySeconds:0.###} s / {server.MaxPoolSize} connections)"
                : $"  {endpoint}: concurrent requests share one query through SharedCall");
            var run = await runner.RunAsync(endpoint, shape, api, cancel.Token);
            runs.Add(run);
            ResultTable.Print(Console.Out, run);
            Console.WriteLine();
        }
    }
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.WriteLine("Stopped before the end; nothing written.");
    return 130;
}

var comparisons = Comparison.Pair(runs);
foreach (var c in comparisons)
{
    Console.WriteLine(
        $"Coalesced vs normal, {Describe.ShortName(c.Shape)}: {Describe.Ratio(c.Ratio)} the requests per second "
        + $"({Describe.Rate(c.Normal.RequestsPerSecond)} → {Describe.Rate(c.Coalesced.RequestsPerSecond)} req/s, "
        + $"{Describe.Seconds(c.Normal.DurationSeconds)} → {Describe.Seconds(c.Coalesced.DurationSeconds)}, "
        + $"{c.Normal.Server.DatabaseQueries} → {c.Coalesced.Server.DatabaseQueries} database queries)");
}

TargetCheck[] targets = comparisons.FirstOrDefault(c => c.Shape == LoadShape.Waves) is { } headline
    ?
    [
        TargetCheck.AtLeast(
            "coalesced vs normal requests/s, original load shape",
            "the normal endpoint's",
            options.TargetRatio,
            headline.Ratio,
            $"{Describe.Rate(headline.Coalesced.RequestsPerSecond)} against {Describe.Rate(headline.Normal.RequestsPerSecond)} req/s"),
    ]
    : [];
TargetReport.WriteConsole(Console.Out, targets);

Console.WriteLine("Reference, not measured here: the original FastAPI demo reported 104 s / 9.6 req/s without coalescing, 3.84 s / 260 req/s with it (27x).");

if (options.Output is not null)
{
    Directory.CreateDirectory(options.Output);
    var data = new ReportData(recording.Finish(), server, runs, comparisons, targets, options.Requests, options.Concurrency, options.ProductId);
    var markdown = Path.Combine(options.Output, "web.md");
    var chart = Path.Combine(options.Output, "web-latency.svg");
    await File.WriteAllTextAsync(markdown, MarkdownReport.Render(data));
    await File.WriteAllTextAsync(chart, LatencyChart.Render(runs, server, options.Requests, measuredAt));
    Console.WriteLine($"Wrote {markdown} and {chart}");
}

Console.WriteLine($"Load test took {clock.Elapsed.TotalSeconds:F0} s");
return runs.All(r => r.Failed == 0) ? 0 : 1;
