using JobDedup.Bench.Reporting.Targets;
using JobDedup.Benchmarks.Load;
using JobDedup.Benchmarks.Suites;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Checks the measured rows against the performance targets; every ratio is between two rows of the same run.</summary>
public static class Targets
{
    public const double StampedeVersusHybridCache = 1.0;
    public const double PipelineStampedeVersusSharedCall = 1.0;
    public const double PipelineStampedeBytesPerCaller = 150;
    public const double PipelineVersusRawChannel = 0.5;
    public const double UncontendedTimeRatio = 0.6;
    public const double UncontendedBytesRatio = 0.5;
    public const double CancellableVersusLazy = 1.0;

    public static IReadOnlyList<TargetCheck> Check(IReadOnlyList<SuiteResult> suites, PipelineLoadResult? load)
    {
        ArgumentNullException.ThrowIfNull(suites);
        var checks = new List<TargetCheck>();
        var contention = Suite(suites, "contention");
        var sharedCall = contention?.Find(nameof(ContentionBenchmarks.SharedCall));
        var pipeline = contention?.Find(nameof(ContentionBenchmarks.JobDeduplicator));
        var hybrid = contention?.Find(nameof(ContentionBenchmarks.HybridCache));

        checks.Add(TimeAtMost("stampede (1,000 callers): SharedCall vs HybridCache, time", sharedCall, hybrid, "HybridCache's time", StampedeVersusHybridCache));
        checks.Add(TimeAtMost("stampede (1,000 callers): pipeline (JobDeduplicator) vs SharedCall, time", pipeline, sharedCall, "SharedCall's time", PipelineStampedeVersusSharedCall));
        var perCaller = pipeline?.BytesPerOp / ContentionBenchmarks.Callers;
        checks.Add(new TargetCheck(
            "stampede (1,000 callers): pipeline, bytes per caller",
            Invariant($"≤ {PipelineStampedeBytesPerCaller:0} B"),
            perCaller is { } b ? Invariant($"{b:0.0} B") : "not measured",
            perCaller <= PipelineStampedeBytesPerCaller));

        if (Suite(suites, "pipeline")?.Find(nameof(PipelineBenchmarks.JobDeduplicator)) is { TimeRatio: { } pipelineTime } row)
        {
            checks.Add(TargetCheck.AtLeast(
                "pipeline vs raw bounded channel, pipelined producers, items/s (BenchmarkDotNet, 100k jobs/op)",
                "the channel's items/s",
                PipelineVersusRawChannel,
                1 / pipelineTime,
                Invariant($"{1e9 / row.MedianNs:N0} jobs/s")));
        }

        if (load is not null)
        {
            checks.Add(TargetCheck.AtLeast(
                Invariant($"pipeline vs raw bounded channel, pipelined producers, items/s (Stopwatch, {load.Jobs:N0} jobs)"),
                "the channel's items/s",
                PipelineVersusRawChannel,
                load.Ratio,
                Invariant($"{load.Subject.JobsPerSecond:N0} against {load.Baseline.JobsPerSecond:N0} jobs/s ({load.CpuRatio:0.000}x in jobs per CPU-second)")));
        }

        var uncontended = Suite(suites, "uncontended")?.Find(nameof(UncontendedBenchmarks.SharedCall));
        checks.Add(TargetCheck.AtMost("uncontended SharedCall, time", "the Lazy baseline's", UncontendedTimeRatio, uncontended?.TimeRatio, uncontended is null ? null : Time(uncontended.MedianNs)));
        checks.Add(TargetCheck.AtMost("uncontended SharedCall, bytes", "the Lazy baseline's", UncontendedBytesRatio, uncontended?.BytesRatio, uncontended is null ? null : Bytes(uncontended.BytesPerOp)));

        var join = Suite(suites, "join");
        const string SameToken = "the Lazy baseline's (same token)";
        AddCancellable(checks, "join with a cancellable token", join?.Find(nameof(JoinBenchmarks.SharedCallWithToken)), join?.Find(nameof(JoinBenchmarks.LazyWithToken)), SameToken, 1);
        var stampedeWithToken = contention?.Find(nameof(ContentionBenchmarks.SharedCallWithToken));
        AddCancellable(checks, "stampede (1,000 callers) with cancellable tokens", stampedeWithToken, contention?.Find(nameof(ContentionBenchmarks.LazyWithToken)), SameToken, ContentionBenchmarks.Callers);

        // The stampede's Lazy row without a token is the comparison the target was first stated against: checked too.
        AddCancellable(checks, "stampede (1,000 callers) with cancellable tokens", stampedeWithToken, contention?.Find(nameof(ContentionBenchmarks.Lazy)), "the Lazy baseline's without a token", ContentionBenchmarks.Callers);

        var joinNone = join?.Find(nameof(JoinBenchmarks.SharedCall));
        checks.Add(new TargetCheck("join with CancellationToken.None, bytes", "0 B", Bytes(joinNone?.BytesPerOp), joinNone?.BytesPerOp == 0));

        foreach (var method in new[] { nameof(ContentionBenchmarks.SharedCall), nameof(ContentionBenchmarks.SharedCallWithToken), nameof(ContentionBenchmarks.JobDeduplicator) })
        {
            if (contention?.Find(method) is { Runs: { } runs } subject)
            {
                checks.Add(new TargetCheck(
                    Invariant($"stampede (1,000 callers): handler runs, {subject.Label} [{subject.Category}]"),
                    "1 per operation",
                    Invariant($"min {runs.Min}, max {runs.Max} over {runs.Operations:N0} operations"),
                    runs.Min == 1 && runs.Max == 1));
            }
        }

        return checks;
    }

    private static void AddCancellable(List<TargetCheck> checks, string name, BenchRow? subject, BenchRow? lazy, string lazyName, int callersPerOp)
    {
        checks.Add(TimeAtMost(name + ", time", subject, lazy, lazyName, CancellableVersusLazy));
        checks.Add(TargetCheck.AtMost(
            name + ", bytes",
            lazyName,
            CancellableVersusLazy,
            BytesRatio(subject?.BytesPerOp, lazy?.BytesPerOp),
            subject is null || lazy is null ? null : Invariant($"{Bytes(subject.BytesPerOp / callersPerOp)} against {Bytes(lazy.BytesPerOp / callersPerOp)}{(callersPerOp > 1 ? " per caller" : string.Empty)}")));
    }

    /// <summary>The median time of <paramref name="row"/> must be at most <paramref name="limit"/> times <paramref name="reference"/>'s.</summary>
    private static TargetCheck TimeAtMost(string name, BenchRow? row, BenchRow? reference, string referenceName, double limit) =>
        row is null || reference is null || reference.MedianNs <= 0
            ? TargetCheck.AtMost(name, referenceName, limit, null)
            : TargetCheck.AtMost(name, referenceName, limit, row.MedianNs / reference.MedianNs, Invariant($"{Time(row.MedianNs)} against {Time(reference.MedianNs)}"));

    private static SuiteResult? Suite(IReadOnlyList<SuiteResult> suites, string id) =>
        suites.FirstOrDefault(s => string.Equals(s.Info.Id, id, StringComparison.Ordinal));
}
