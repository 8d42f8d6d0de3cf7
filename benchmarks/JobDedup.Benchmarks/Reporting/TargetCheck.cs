namespace JobDedup.Benchmarks.Reporting;

/// <summary>A target from the brief, what was measured against it, and whether it was met.</summary>
public sealed record TargetCheck(string Name, string Target, string Measured, bool Met);
