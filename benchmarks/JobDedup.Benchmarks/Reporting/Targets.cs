using JobDedup.Benchmarks.Load;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Checks the measured results against the targets of the brief.</summary>
public static class Targets
{
    public const double UncontendedTimeRatio = 0.6;
    public const double UncontendedBytesRatio = 0.5;
    public const double PipelineRatio = 0.5;

    public static IReadOnlyList<TargetCheck> Check(IReadOnlyList<SuiteResult> suites, PipelineLoadResult? load)
    {
        ArgumentNullException.ThrowIfNull(suites);
        var checks = new List<TargetCheck>();
        if (Suite(suites, "uncontended")?.Find("SharedCall") is { } call)
        {
            checks.Add(new TargetCheck(
                "1. uncontended SharedCall, time",
                Format.Invariant($"≤ {UncontendedTimeRatio:0.0}x the Lazy baseline"),
                Format.Invariant($"{Format.Time(call.MedianNs)} = {Format.Ratio(call.TimeRatio)}"),
                call.TimeRatio <= UncontendedTimeRatio));
            checks.Add(new TargetCheck(
                "1. uncontended SharedCall, bytes",
                Format.Invariant($"≤ {UncontendedBytesRatio:0.0}x the Lazy baseline"),
                Format.Invariant($"{Format.Bytes(call.BytesPerOp)} = {Format.Ratio(call.BytesRatio)}"),
                call.BytesRatio <= UncontendedBytesRatio));
        }

        if (Suite(suites, "join")?.Find("SharedCall") is { } join)
        {
            checks.Add(new TargetCheck(
                "2. join with CancellationToken.None, bytes",
                "0 B",
                Format.Bytes(join.BytesPerOp),
                join.BytesPerOp == 0));
        }

        var contention = Suite(suites, "contention");
        foreach (var method in new[] { "SharedCall", "SharedCallWithToken" })
        {
            if (contention?.Find(method) is { Runs: { } runs } row)
            {
                checks.Add(new TargetCheck(
                    Format.Invariant($"3. contention, handler runs ({row.Label})"),
                    "1 per 1,000 callers",
                    Format.Invariant($"min {runs.Min}, max {runs.Max} over {runs.Operations:N0} operations"),
                    runs.Min == 1 && runs.Max == 1));
            }
        }

        if (Suite(suites, "pipeline")?.Find("JobDeduplicator") is { TimeRatio: { } pipelineTime })
        {
            var ratio = 1 / pipelineTime;
            checks.Add(new TargetCheck(
                "4. pipeline jobs/s vs raw channel (BenchmarkDotNet, 100k jobs/op)",
                Format.Invariant($"≥ {PipelineRatio:0.0}x"),
                Format.Invariant($"{ratio:0.000}x"),
                ratio >= PipelineRatio));
        }

        if (load is not null)
        {
            checks.Add(new TargetCheck(
                Format.Invariant($"4. pipeline jobs/s vs raw channel (Stopwatch, {load.Jobs:N0} jobs)"),
                Format.Invariant($"≥ {PipelineRatio:0.0}x"),
                Format.Invariant($"{load.Ratio:0.000}x ({load.CpuRatio:0.000}x in jobs per CPU-second)"),
                load.Ratio >= PipelineRatio));
        }

        return checks;
    }

    private static SuiteResult? Suite(IReadOnlyList<SuiteResult> suites, string id) =>
        suites.FirstOrDefault(s => string.Equals(s.Info.Id, id, StringComparison.Ordinal));
}
