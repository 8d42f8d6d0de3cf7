namespace JobDedup.Benchmarks.Reporting;

/// <summary>The measured rows of one suite.</summary>
public sealed record SuiteResult(SuiteInfo Info, IReadOnlyList<BenchRow> Rows)
{
    public BenchRow? Find(string method) => Rows.FirstOrDefault(r => string.Equals(r.Method, method, StringComparison.Ordinal));
}
