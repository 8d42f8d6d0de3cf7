using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.Benchmarks.Load;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Everything one run measured, with where, when, from which commit and how it ran.</summary>
/// <param name="Run">The machine, commit, command and times of the run.</param>
/// <param name="BenchmarkDotNet">The BenchmarkDotNet version that measured it.</param>
/// <param name="Config">The job the suites ran with.</param>
/// <param name="TaskDelay">What <c>Task.Delay(1)</c> took here (median), the reason the contention work has its own timer.</param>
/// <param name="Suites">The BenchmarkDotNet suites' rows.</param>
/// <param name="Load">The Stopwatch pipeline load, when it ran.</param>
/// <param name="Targets">Each target checked against the rows above.</param>
public sealed record MicroReport(
    RunInfo Run,
    string BenchmarkDotNet,
    MicroConfig Config,
    TimeSpan TaskDelay,
    IReadOnlyList<SuiteResult> Suites,
    PipelineLoadResult? Load,
    IReadOnlyList<TargetCheck> Targets)
{
    /// <summary>Finds a suite by its id.</summary>
    public SuiteResult? Suite(string id) => Suites.FirstOrDefault(s => string.Equals(s.Info.Id, id, StringComparison.Ordinal));
}
