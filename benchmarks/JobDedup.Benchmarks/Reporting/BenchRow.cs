using JobDedup.Benchmarks.Suites;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>One benchmark's measured result, with its ratios (of medians, and of bytes) to the baseline of its category.</summary>
public sealed record BenchRow(
    string Method,
    string Label,
    string Category,
    bool IsBaseline,
    bool IsSubject,
    double MedianNs,
    double MeanNs,
    double StdDevNs,
    double? BytesPerOp,
    double? TimeRatio,
    double? BytesRatio,
    HandlerRunTally? Runs);
