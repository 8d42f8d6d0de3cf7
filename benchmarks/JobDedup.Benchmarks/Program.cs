using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.Benchmarks;
using JobDedup.Benchmarks.Load;
using JobDedup.Benchmarks.Reporting;
using JobDedup.Benchmarks.Suites;
using Format = JobDedup.Bench.Reporting.Format;

// Modes:
//   --report DIR [--command TEXT] [--jobs N] [--rounds N] [--warmup N] [--iterations N]
//                                                           every suite, the pipeline load, then DIR/micro.md and DIR/micro.svg
//   --pipeline [--jobs N] [--rounds N] [--producers N]     only the Stopwatch pipeline load (1M jobs by default)
//   anything else                                           BenchmarkDotNet's own switcher (e.g. --filter '*Join*')
var output = Console.Out;
var artifacts = Option(args, "--artifacts") ?? Path.Combine(Directory.GetCurrentDirectory(), "artifacts", "bench", "micro");
var jobs = int.Parse(Option(args, "--jobs") ?? "1000000", CultureInfo.InvariantCulture);
var rounds = int.Parse(Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
var warmupIterations = int.Parse(Option(args, "--warmup") ?? MicroConfig.DefaultWarmupIterations.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
var measuredIterations = int.Parse(Option(args, "--iterations") ?? MicroConfig.DefaultMeasuredIterations.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
var producers = int.Parse(Option(args, "--producers") ?? PipelineWorkload.DefaultProducers.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

if (args.Contains("--pipeline"))
{
    var load = await PipelineLoad.RunAsync(jobs, rounds, producers, output);
    output.WriteLine();
    PipelineLoad.Print(load, output);
    return 0;
}

if (Option(args, "--report") is not { } reportDirectory)
{
    BenchmarkSwitcher.FromAssembly(typeof(MicroConfig).Assembly).Run(args, new MicroConfig(artifacts, ConsoleLogger.Default, warmupIterations, measuredIterations));
    return 0;
}

var taskDelay = await MillisecondDelay.MeasureTaskDelayAsync();
SuiteInfo[] suites =
[
    new(typeof(UncontendedBenchmarks), "uncontended", "1. Uncontended: distinct keys, work already complete", "call",
        "One caller, a different key on every call (1,024 keys in turn), work that returns a cached completed `Task<int>`: what a coalescer costs on a call that turns out not to be a duplicate. SharedCall is called as a careful user would: the state-passing overload with a static lambda and the cached task as state, `CancellationToken.None`."),
    new(typeof(JoinBenchmarks), "join", "2. Joining a flight already running", "join",
        Format.Invariant($"Each iteration starts one flight held open by a gate, then {JoinBenchmarks.JoinsPerIteration:N0} callers join it (measured); the gate opens and every caller is checked outside the measurement. A joined caller's task is kept, not awaited, in the measurement.")),
    new(typeof(ContentionBenchmarks), "contention", "3. Stampede: 1,000 callers on one key, ~1 ms work", "op (1,000 callers)",
        Format.Invariant($"One operation: {ContentionBenchmarks.Callers:N0} callers on one key issued with `Parallel.For` from every core; the work counts its run, waits for a gate that opens once every caller has called (so overlap is by construction, not timing), then waits about 1 ms (on a dedicated timer thread, because `Task.Delay(1)` is much coarser; the measured length of a run is in the table); all callers are awaited and must get the result. Handler runs are recorded for every operation BenchmarkDotNet ran, warm-up included. The plain call has no coalescing: every caller runs the work. Besides SharedCall and the hand-written coalescers: the pipeline (`JobDeduplicator.EnqueueAsync`, each caller awaiting its outcome), HybridCache with both caches off and FusionCache with a key per operation (see Method). With a cancellable token every caller passes the same `CancellationTokenSource`'s token, which is never canceled.")),
    new(typeof(PipelineBenchmarks), "pipeline", "4. Pipeline: JobDeduplicator vs a raw bounded Channel", "job",
        Format.Invariant($"{PipelineBenchmarks.Jobs:N0} jobs per operation (scaled down from 1M so one operation stays short; the 1M run is the Stopwatch load below), {PipelineWorkload.KeyCount:N0} random keys, {PipelineWorkload.DefaultProducers} concurrent producers, trivial handler, default options but the queue capacity ({PipelineWorkload.QueueCapacity}, as the channels). Raw channel: producers `WriteAsync` each job, one reader `TryRead`s them. Channel + reply: the same, each job carrying a `TaskCompletionSource` the reader completes and its producer awaits (windows of {PipelineWorkload.DefaultWindow}), i.e. the floor for any pipeline that answers every caller. JobDeduplicator: producers `EnqueueAsync(key, job)` and await every outcome (windows of {PipelineWorkload.DefaultWindow}). Results are per job.")),
];

var command = Option(args, "--command") ?? UnderlyingCommand(args);
var recording = await RunInfo.StartAsync("benchmarks/JobDedup.Benchmarks", command, UnderlyingCommand(args));
var started = Stopwatch.StartNew();
var config = new MicroConfig(artifacts, new ProgressLogger(output), warmupIterations, measuredIterations);
var results = new List<SuiteResult>();
for (var i = 0; i < suites.Length; i++)
{
    output.WriteLine(Format.Invariant($"== [{i + 1}/{suites.Length + 1}] {suites[i].Title} ({started.Elapsed.TotalSeconds:0} s elapsed)"));
    var summary = BenchmarkRunner.Run(suites[i].Type, config);
    results.Add(SuiteReader.Read(summary, suites[i]));
}

output.WriteLine(Format.Invariant($"== [{suites.Length + 1}/{suites.Length + 1}] pipeline load, {jobs:N0} jobs ({started.Elapsed.TotalSeconds:0} s elapsed)"));
var pipelineLoad = await PipelineLoad.RunAsync(jobs, rounds, producers, output);
PipelineLoad.Print(pipelineLoad, output);

var report = new MicroReport(
    recording.Finish(),
    typeof(BenchmarkRunner).Assembly.GetName().Version?.ToString(3) ?? "unknown",
    config,
    taskDelay,
    results,
    pipelineLoad,
    Targets.Check(results, pipelineLoad));

Directory.CreateDirectory(reportDirectory);
var markdownPath = Path.Combine(reportDirectory, "micro.md");
var chartPath = Path.Combine(reportDirectory, "micro.svg");
await File.WriteAllTextAsync(markdownPath, MarkdownReport.Render(report, Path.GetFileName(chartPath)));
await File.WriteAllTextAsync(chartPath, SvgChart.Render(report));

output.WriteLine();
TargetReport.WriteConsole(output, report.Targets);
output.WriteLine(Format.Invariant($"wrote {markdownPath} and {chartPath} in {started.Elapsed.TotalSeconds:0} s"));
return 0;

// The command line of this run as typed from the working directory, without the --command note.
static string UnderlyingCommand(string[] args) =>
    RunInfo.InvocationOf(typeof(MicroConfig).Assembly, args.Where((arg, i) => arg != "--command" && (i == 0 || args[i - 1] != "--command")));

static string? Option(string[] args, string name) => JobDedup.Bench.Reporting.Text.CommandLine.Option(args, name);
