using System.Text;
using JobDedup.Benchmarks.Load;
using JobDedup.Benchmarks.Suites;
using static JobDedup.Benchmarks.Reporting.Format;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Writes docs/benchmarks/micro.md from the measured results; nothing in it is typed by hand.</summary>
public static class MarkdownReport
{
    public static string Render(MicroReport report, string chartFileName)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.AppendLine("# JobDedup micro benchmarks");
        md.AppendLine();
        md.AppendLine(Invariant($"_Written by `benchmarks/JobDedup.Benchmarks` from the results of the run that finished {report.Finished:yyyy-MM-dd HH:mm} UTC (took {report.Duration.TotalMinutes:0.0} min). Do not edit: run the command below again._"));
        md.AppendLine();
        md.AppendLine("**Provisional numbers.** The machine has 2 cores and was shared with other builds while this ran, and the");
        md.AppendLine("BenchmarkDotNet job is deliberately short. Absolute times are noisy; the ratios between implementations, measured");
        md.AppendLine("side by side in the same run, are what to read.");
        md.AppendLine();
        md.AppendLine(Invariant($"![Time and bytes per operation, per implementation]({chartFileName})"));
        md.AppendLine();

        md.AppendLine("## Targets");
        md.AppendLine();
        Table(md, ["target", "wanted", "measured", "verdict"], report.Targets.Select(t => new[] { t.Name, t.Target, t.Measured, t.Met ? "met" : "**missed**" }));

        md.AppendLine("## Command");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine(report.Command);
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("which builds Release and runs:");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine(report.UnderlyingCommand);
        md.AppendLine("```");
        md.AppendLine();

        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine("```text");
        md.AppendLine("$ nproc");
        md.AppendLine(report.Machine.Nproc);
        md.AppendLine("$ lscpu | head");
        md.AppendLine(report.Machine.Lscpu);
        md.AppendLine("$ dotnet --version");
        md.AppendLine(report.Machine.DotnetVersion);
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(Invariant($"Runtime {report.Machine.Runtime} on {report.Machine.Os}; GC {report.Machine.Gc}; BenchmarkDotNet {report.Machine.BenchmarkDotNet}. Load average (1, 5, 15 min) when the run started: {report.LoadAtStart}; when it ended: {report.LoadAtEnd} (on 2 cores, anything above 2 means other processes were competing for the CPU)."));
        md.AppendLine();

        md.AppendLine("## Method");
        md.AppendLine();
        md.AppendLine(Invariant($"- BenchmarkDotNet, in-process emit toolchain (no generated project to build), 1 launch, {MicroConfig.WarmupIterations} warm-up and {MicroConfig.MeasuredIterations} measured iterations of about {MicroConfig.IterationMilliseconds} ms each, `MemoryDiagnoser` on. Time is the median of the measured iterations (an iteration slowed by another process on this shared machine moves it least), with the standard deviation beside it; time ratios are ratios of medians. Bytes are everything allocated during the measured operations, on every thread, divided by the operation count."));
        md.AppendLine("- Ratios are to the baseline row of the same table (and category): the `ConcurrentDictionary<TKey, Lazy<Task<T>>>` coalescer most .NET code writes (`GetOrAdd` a Lazy, await it, `TryRemove`), in its careful form (`GetOrAdd(key, factory, arg)` with a cached delegate, no closure per call); for the pipeline, the raw bounded `Channel`. Below 1x is cheaper than the baseline.");
        md.AppendLine("- `lock+Dictionary (Go shape)` ports Go's `singleflight.Group` to tasks: one lock around a plain dictionary of calls, each call a `TaskCompletionSource`. `ConcurrentDictionary+Lazy, closures` is the Lazy coalescer as usually seen, with capturing lambdas.");
        md.AppendLine(Invariant($"- The pipeline load runs outside BenchmarkDotNet with `Stopwatch`: {report.Load?.Jobs ?? 0:N0} jobs through each pipeline, {report.Load?.Rounds ?? 0} rounds taken in turn, the median round reported; bytes per job from `GC.GetTotalAllocatedBytes(precise: true)`."));
        md.AppendLine();

        foreach (var suite in report.Suites)
        {
            Suite(md, suite);
        }

        if (report.Load is { } load)
        {
            md.AppendLine(Invariant($"## Pipeline load: {load.Jobs:N0} jobs (Stopwatch, `--pipeline`)"));
            md.AppendLine();
            md.AppendLine(Invariant($"{load.Jobs:N0} jobs over {load.Keys:N0} random keys from {load.Producers} concurrent producers, trivial handler, queue capacity {PipelineWorkload.QueueCapacity}. Producers of the channel-with-reply and of the deduplicator await their outcomes in windows of {load.Window}. Handler runs are the deduplicator's flights (jobs minus coalesced duplicates). CPU per job is the CPU time this process used during the round divided by the jobs: other processes competing for the 2 cores inflate it much less than wall-clock time, so its ratio is the steadier of the two."));
            md.AppendLine();
            Table(
                md,
                PipelineLoad.Header,
                load.Rows.Select(r => PipelineLoad.Cells(r, load.Baseline)));
        }

        return md.ToString();
    }

    private static void Suite(StringBuilder md, SuiteResult suite)
    {
        md.AppendLine(Invariant($"## {suite.Info.Title}"));
        md.AppendLine();
        md.AppendLine(suite.Info.Method);
        md.AppendLine();
        var hasCategories = suite.Rows.Any(r => r.Category.Length > 0);
        var op = suite.Info.Operation;
        switch (suite.Info.Id)
        {
            case "contention":
                Table(
                    md,
                    ["implementation", Invariant($"time per {op} (median)"), "sd", "time ratio", Invariant($"allocated per {op}"), "bytes per caller", "bytes ratio", "handler runs per op (min..max)", "one run of the work"],
                    suite.Rows.Select(r => new[]
                    {
                        Label(r), Time(r.MedianNs), Time(r.StdDevNs), Ratio(r.TimeRatio), Bytes(r.BytesPerOp),
                        r.BytesPerOp is { } b ? Invariant($"{b / ContentionBenchmarks.Callers:0.0} B") : "n/a",
                        Ratio(r.BytesRatio), Runs(r.Runs), r.Runs is { } runs ? Time(runs.WorkDuration.TotalNanoseconds) : "n/a",
                    }));
                break;
            case "pipeline":
                Table(
                    md,
                    ["implementation", "time per job (median)", "sd", "jobs/s", "jobs/s ratio", "allocated per job"],
                    suite.Rows.Select(r => new[]
                    {
                        Label(r), Time(r.MedianNs), Time(r.StdDevNs), Number(1e9 / r.MedianNs), Ratio(r.TimeRatio is { } t ? 1 / t : null),
                        Bytes(r.BytesPerOp),
                    }));
                break;
            default:
                var header = new List<string>();
                if (hasCategories)
                {
                    header.Add("token");
                }

                header.AddRange(["implementation", Invariant($"time per {op} (median)"), "sd", "time ratio", Invariant($"allocated per {op}"), "bytes ratio"]);
                Table(md, header, suite.Rows.Select(r =>
                {
                    var cells = new List<string>();
                    if (hasCategories)
                    {
                        cells.Add(r.Category);
                    }

                    cells.AddRange([Label(r), Time(r.MedianNs), Time(r.StdDevNs), Ratio(r.TimeRatio), Bytes(r.BytesPerOp), Ratio(r.BytesRatio)]);
                    return (IReadOnlyList<string>)cells;
                }));
                break;
        }
    }

    private static string Label(BenchRow row) =>
        row.IsSubject ? Invariant($"**{row.Label}**") : row.IsBaseline ? Invariant($"{row.Label} (baseline)") : row.Label;

    private static string Runs(HandlerRunTally? runs) =>
        runs is null ? "n/a" : Invariant($"{runs.PerOperation:0.##} ({runs.Min}..{runs.Max}, {runs.Operations:N0} ops)");

    private static void Table(StringBuilder md, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        md.Append("| ").AppendJoin(" | ", header).AppendLine(" |");
        md.Append('|').AppendJoin('|', header.Select((_, i) => i == 0 ? " --- " : " ---: ")).AppendLine("|");
        foreach (var row in rows)
        {
            md.Append("| ").AppendJoin(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
        }

        md.AppendLine();
    }
}
