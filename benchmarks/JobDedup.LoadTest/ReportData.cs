using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Targets;

namespace JobDedup.LoadTest;

/// <summary>Everything the report is made from.</summary>
internal sealed record ReportData(
    RunInfo Run,
    ServerInfo Server,
    IReadOnlyList<RunResult> Runs,
    IReadOnlyList<Comparison> Comparisons,
    IReadOnlyList<TargetCheck> Targets,
    int Requests,
    int Concurrency,
    int ProductId);
