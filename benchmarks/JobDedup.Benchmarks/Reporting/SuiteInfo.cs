namespace JobDedup.Benchmarks.Reporting;

/// <summary>A suite as the report presents it: its class, its title, what one operation is, and how it is measured.</summary>
public sealed record SuiteInfo(Type Type, string Id, string Title, string Operation, string Method);
