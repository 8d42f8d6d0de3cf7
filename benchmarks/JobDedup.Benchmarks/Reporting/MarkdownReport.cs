using System.Text;
using JobDedup.Bench.Reporting.Markdown;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.Benchmarks.Load;
using JobDedup.Benchmarks.Suites;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Writes docs/benchmarks/micro.md from the measured results; nothing in it is typed by hand.</summary>
public static class MarkdownReport
{
    public static string Render(MicroReport report, string chartFileName)
    {
        ArgumentNullException.ThrowIfNull(report);
        var run = report.Run;
        var config = report.Config;
        var md = new StringBuilder();
        md.Append("# JobDedup micro benchmarks\n\n");
        RunSections.AppendProvenance(md, run);
        md.Append(Invariant($"**Provisional numbers.** The machine has {run.Machine.Nproc} cores and was shared with other builds while this ran (load average {run.LoadAtStart} at the start, {run.LoadAtEnd} at the end), and the BenchmarkDotNet job is deliberately short"));
        md.Append(config.IsDefault ? ". " : Invariant($", shorter still in this run ({config.WarmupIterations} warm-up and {config.MeasuredIterations} measured iterations instead of {MicroConfig.DefaultWarmupIterations} and {MicroConfig.DefaultMeasuredIterations}). "));
        md.Append("Absolute times are noisy; the ratios between implementations, measured side by side in the same run, are what to read.\n\n");
        md.Append(Invariant($"![Time and bytes per operation, per implementation]({chartFileName})\n\n"));

        TargetReport.AppendMarkdown(md, report.Targets);
        RunSections.AppendCommand(md, run);
        RunSections.AppendMachine(md, run, Invariant($"BenchmarkDotNet {report.BenchmarkDotNet}."));

        md.Append("## Method\n\n");
        md.Append(Invariant($"- BenchmarkDotNet, in-process emit toolchain (no generated project to build), 1 launch, {config.WarmupIterations} warm-up and {config.MeasuredIterations} measured iterations of about {MicroConfig.IterationMilliseconds} ms each, `MemoryDiagnoser` on. Time is the median of the measured iterations (an iteration slowed by another process on this shared machine moves it least), with the standard deviation beside it; time ratios are ratios of medians. Bytes are everything allocated during the measured operations, on every thread, divided by the operation count.\n"));
        md.Append("- Ratios are to the baseline row of the same table and token category: the `ConcurrentDictionary<TKey, Lazy<Task<T>>>` coalescer most .NET code writes (`GetOrAdd` a Lazy, await it, `TryRemove`), in its careful form (`GetOrAdd(key, factory, arg)` with a cached delegate, no closure per call; with a token it awaits `WaitAsync(token)`); for the pipeline, the raw bounded `Channel`. Below 1x is cheaper than the baseline. The targets compare two rows of the same run (e.g. SharedCall against HybridCache).\n");
        md.Append("- `lock+Dictionary (Go shape)` ports Go's `singleflight.Group` to tasks: one lock around a plain dictionary of calls, each call a `TaskCompletionSource`. `ConcurrentDictionary+Lazy, closures` is the Lazy coalescer as usually seen, with capturing lambdas.\n");
        md.Append(Invariant($"- **HybridCache** (Microsoft.Extensions.Caching.Hybrid 10.11.0, from `AddHybridCache()` with its defaults): `GetOrCreateAsync(key, state, factory, options)` with `Flags = {ContentionBenchmarks.HybridCacheFlags}`, so it neither reads nor writes its local or distributed cache (none is registered) and only its stampede protection runs: concurrent callers of one key share the first caller's factory call.\n"));
        md.Append(Invariant($"- **FusionCache** (ZiggyCreatures.FusionCache 2.9.0, its own memory cache, default options but `Duration = {ContentionBenchmarks.FusionCacheDuration.TotalMinutes:0} min`): `GetOrSetAsync(key, factory)` with **a new key for every operation** of 1,000 callers. FusionCache has no shared in-flight task: its stampede protection is a lock per key, and the callers queued behind the first one read the value it stored in the memory cache once they get the lock. With `Duration = 0` nothing would be stored, so each queued caller would run the factory in turn (no coalescing at all: a probe on 2026-12-01 with `FusionCacheDuration` set to zero measured 1.24 s per operation, a thousand 1.2 ms runs one after another; to see it again, set it to `TimeSpan.Zero` and run the program with `--filter '*ContentionBenchmarks.FusionCache*'`); with one fixed key, every operation after the first would be a plain cache hit (no stampede at all). A fresh key per operation keeps both honest: within an operation it coalesces through its cache, and no operation is served a value left by an earlier one. The key costs one string per operation (under 0.1 B per caller).\n"));
        md.Append(Invariant($"- **JobDeduplicator** in the stampede: default options (named `stampede`; the dedupe window is off by default, so no operation replays an earlier outcome), each caller `EnqueueAsync(key, job)` and awaits the outcome; the handler is the same gated ~1 ms work. A caller is only queued when `EnqueueAsync` returns, so the gate opens once the deduplicator counts every caller but the leader as joined (`GetStats().Hits`; the wait is part of the measured time): without that wait a caller still queued when the run ended started a second run (1 to 2 runs per operation in an earlier run on this machine).\n"));
        if (report.Load is { } load)
        {
            md.Append(Invariant($"- The pipeline load runs outside BenchmarkDotNet with `Stopwatch`: {load.Jobs:N0} jobs through each pipeline, {load.Rounds} rounds taken in turn, the median round reported; bytes per job from `GC.GetTotalAllocatedBytes(precise: true)`.\n"));
        }

        md.Append('\n');
        foreach (var suite in report.Suites)
        {
            Suite(md, suite, report);
        }

        if (report.Load is { } pipelineLoad)
        {
            md.Append(Invariant($"## Pipeline load: {pipelineLoad.Jobs:N0} jobs (Stopwatch, `--pipeline`)\n\n"));
            md.Append(Invariant($"{pipelineLoad.Jobs:N0} jobs over {pipelineLoad.Keys:N0} random keys from {pipelineLoad.Producers} concurrent producers, trivial handler, queue capacity {PipelineWorkload.QueueCapacity}. Producers of the channel-with-reply and of the deduplicator await their outcomes in windows of {pipelineLoad.Window}. Handler runs are the deduplicator's flights (jobs minus coalesced duplicates). CPU per job is the CPU time this process used during the round divided by the jobs: other processes competing for the cores inflate it much less than wall-clock time, so its ratio is the steadier of the two.\n\n"));
            MarkdownTable.Append(md, PipelineLoad.Header, pipelineLoad.Rows.Select(r => PipelineLoad.Cells(r, pipelineLoad.Baseline)));
        }

        return md.ToString();
    }

    private static void Suite(StringBuilder md, SuiteResult suite, MicroReport report)
    {
        md.Append(Invariant($"## {suite.Info.Title}\n\n"));
        md.Append(suite.Info.Method).Append("\n\n");
        if (suite.Info.Id == "contention")
        {
            md.Append(Invariant($"The work's timer: `Task.Delay(1)` took {report.TaskDelay.TotalMilliseconds:0.0} ms here (median of 21).\n\n"));
        }

        var op = suite.Info.Operation;
        var categories = suite.Rows.Any(r => r.Category.Length > 0);
        IEnumerable<string> Lead(BenchRow r) => categories ? [r.Category, Label(r)] : [Label(r)];
        IReadOnlyList<string> Head(params string[] rest) => [.. (categories ? new[] { "token", "implementation" } : ["implementation"]).Concat(rest)];
        var numericFrom = categories ? 2 : 1;
        switch (suite.Info.Id)
        {
            case "contention":
                MarkdownTable.Append(
                    md,
                    Head(Invariant($"time per {op} (median)"), "sd", "time ratio", Invariant($"allocated per {op}"), "bytes per caller", "bytes ratio", "handler runs per op (min..max)", "one run of the work"),
                    suite.Rows.Select(r => (IReadOnlyList<string>)
                    [
                        .. Lead(r), Time(r.MedianNs), Time(r.StdDevNs), Ratio(r.TimeRatio), Bytes(r.BytesPerOp),
                        r.BytesPerOp is { } b ? Invariant($"{b / ContentionBenchmarks.Callers:0.0} B") : "n/a",
                        Ratio(r.BytesRatio), Runs(r.Runs), r.Runs is { } runs ? Time(runs.WorkDuration.TotalNanoseconds) : "n/a",
                    ]),
                    numericFrom);
                break;
            case "pipeline":
                MarkdownTable.Append(
                    md,
                    Head("time per job (median)", "sd", "jobs/s", "jobs/s ratio", "allocated per job"),
                    suite.Rows.Select(r => (IReadOnlyList<string>)
                    [
                        .. Lead(r), Time(r.MedianNs), Time(r.StdDevNs), Number(1e9 / r.MedianNs), Ratio(r.TimeRatio is { } t ? 1 / t : null), Bytes(r.BytesPerOp),
                    ]),
                    numericFrom);
                break;
            default:
                MarkdownTable.Append(
                    md,
                    Head(Invariant($"time per {op} (median)"), "sd", "time ratio", Invariant($"allocated per {op}"), "bytes ratio"),
                    suite.Rows.Select(r => (IReadOnlyList<string>)[.. Lead(r), Time(r.MedianNs), Time(r.StdDevNs), Ratio(r.TimeRatio), Bytes(r.BytesPerOp), Ratio(r.BytesRatio)]),
                    numericFrom);
                break;
        }
    }

    private static string Label(BenchRow row) =>
        row.IsSubject ? Invariant($"**{row.Label}**") : row.IsBaseline ? Invariant($"{row.Label} (baseline)") : row.Label;

    private static string Runs(HandlerRunTally? runs) =>
        runs is null ? "n/a" : Invariant($"{runs.PerOperation:0.##} ({runs.Min}..{runs.Max}, {runs.Operations:N0} ops)");
}
