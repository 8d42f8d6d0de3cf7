using System.Diagnostics;
using System.Runtime.InteropServices;
using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Measuring;
using JobDedup.RabbitMqBench;
using JobDedup.RabbitMqBench.Consumers;
using JobDedup.RabbitMqBench.Measuring;
using JobDedup.RabbitMqBench.Reporting;
using JobDedup.RabbitMqBench.Workload;

// Consumer throughput on RabbitMQ: a raw RabbitMQ.Client consumer (the ceiling), the JobDedup consumer at 0% and 90%
// duplicates, and a MassTransit consumer, each on a fresh queue pre-filled with the same messages, same prefetch.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var output = Console.Out;
// Ctrl+C, SIGINT (scripts/bench/rabbitmq.sh's timeout) and SIGTERM stop the run, and the queues are still deleted.
using var interrupted = new CancellationTokenSource();
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}

var invocation = RunInfo.InvocationOf(typeof(BenchRunner).Assembly, args);
var recording = await RunInfo.StartAsync("benchmarks/JobDedup.RabbitMqBench", options.Command, invocation);
var started = Stopwatch.StartNew();
output.WriteLine($"RabbitMQ consumer throughput: {options.Messages:N0} messages per run, prefetch {options.Prefetch}, up to {options.Rounds} round(s) within {options.Budget.TotalSeconds:0} s, warm-up {options.Warmup:N0}, broker {BenchQueues.Redact(options.Uri)}");

await using var queues = await BenchQueues.ConnectAsync(options.Uri, interrupted.Token);
// The broker's node (started with "-s rabbit boot"), not a CLI tool such as rabbitmqctl, which runs in a beam.smp too.
var system = SystemCounters.Find(static (comm, cmdline) => comm == "beam.smp" && cmdline.Contains("rabbit\0boot", StringComparison.Ordinal));
using var jobDedup = new JobDedupConsumer(options.Uri);
jobDedup.Listen();
Scenario[] scenarios =
[
    new("raw", new RawConsumer(options.Uri), 0, IsBaseline: true, IsSubject: false),
    new("jobdedup-0", jobDedup, 0, IsBaseline: false, IsSubject: true),
    new("jobdedup-90", jobDedup, 90, IsBaseline: false, IsSubject: true),
    new("masstransit", new MassTransitConsumer(options.Uri), 0, IsBaseline: false, IsSubject: false),
    new("raw-batched", new RawConsumer(options.Uri, ackEvery: Math.Min(20, options.Prefetch)), 0, IsBaseline: false, IsSubject: false, IsReference: true),
];

var benchQueues = scenarios.Select(s => s.Queue).ToArray();
if (options.Only is { } only)
{
    if (only.FirstOrDefault(id => scenarios.All(s => s.Id != id)) is { } unknown)
    {
        Console.Error.WriteLine($"--only: no consumer '{unknown}'; choose from {string.Join(", ", scenarios.Select(s => s.Id))}");
        return 2;
    }

    scenarios = [.. scenarios.Where(s => only.Contains(s.Id))];
}

var runner = new BenchRunner(queues, system, options, output);
var results = new List<RunResult>();
try
{
    // Queues left by an interrupted run (their names are fixed) go first.
    foreach (var queue in benchQueues)
    {
        await queues.DeleteAsync(queue, interrupted.Token);
    }

    if (options.Warmup > 0)
    {
        output.WriteLine($"== warm-up: {options.Warmup:N0} messages through each consumer (not measured)");
        foreach (var scenario in scenarios)
        {
            var warm = await runner.RunAsync(scenario, options.Warmup, round: 0, interrupted.Token);
            if (!warm.Ok)
            {
                output.WriteLine($"warm-up of {scenario.Label} failed: {warm.Failure}");
                return 1;
            }
        }
    }

    var longestRound = TimeSpan.Zero;
    for (var round = 1; round <= options.Rounds; round++)
    {
        // Another round only if it should end within the budget, judging by the longest round so far.
        if (round > 1 && started.Elapsed + longestRound > options.Budget)
        {
            output.WriteLine($"== stopping after {round - 1} round(s): another would end past the budget of {options.Budget.TotalSeconds:0} s");
            break;
        }

        var roundStarted = started.Elapsed;
        foreach (var scenario in scenarios)
        {
            output.WriteLine($"== round {round}/{options.Rounds}: {scenario.Label} ({started.Elapsed.TotalSeconds:0} s elapsed)");
            results.Add(await runner.RunAsync(scenario, options.Messages, round, interrupted.Token));
        }

        longestRound = TimeSpan.FromTicks(Math.Max(longestRound.Ticks, (started.Elapsed - roundStarted).Ticks));
    }
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    output.WriteLine("interrupted; deleting the benchmark queues");
    return 130;
}

if (options.Only is not null)
{
    // A partial run (for profiling) has no baseline to compare with: no table of ratios, no report.
    return results.All(r => r.Ok) ? 0 : 1;
}

var report = new BenchReport(recording.Finish(), queues.ServerVersion, options, system.SeesWatched, scenarios, results);
output.WriteLine();
output.Write(ConsoleTable.Render(report));
if (options.ReportDirectory is { } directory)
{
    Directory.CreateDirectory(directory);
    var markdown = Path.Combine(directory, "rabbitmq.md");
    var chart = Path.Combine(directory, "rabbitmq.svg");
    await File.WriteAllTextAsync(markdown, MarkdownReport.Render(report, Path.GetFileName(chart)));
    await File.WriteAllTextAsync(chart, SvgChart.Render(report));
    output.WriteLine($"wrote {markdown} and {chart}");
}

return results.All(r => r.Ok) ? 0 : 1;
