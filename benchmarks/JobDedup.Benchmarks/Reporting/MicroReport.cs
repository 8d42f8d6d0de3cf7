using JobDedup.Benchmarks.Load;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Everything one run measured, with where and how it ran.</summary>
public sealed record MicroReport(
    DateTimeOffset Finished,
    TimeSpan Duration,
    string Command,
    string UnderlyingCommand,
    MachineInfo Machine,
    string LoadAtStart,
    string LoadAtEnd,
    IReadOnlyList<SuiteResult> Suites,
    PipelineLoadResult? Load,
    IReadOnlyList<TargetCheck> Targets);
