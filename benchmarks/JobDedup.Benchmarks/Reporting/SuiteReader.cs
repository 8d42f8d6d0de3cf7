using BenchmarkDotNet.Reports;
using JobDedup.Bench.Reporting;
using JobDedup.Benchmarks.Suites;

namespace JobDedup.Benchmarks.Reporting;

/// <summary>Turns a BenchmarkDotNet summary into report rows; ratios are taken within each category, against its baseline.</summary>
public static class SuiteReader
{
    public static SuiteResult Read(Summary summary, SuiteInfo info)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(info);
        var measured = new List<(BenchmarkReport Report, string Category)>();
        foreach (var report in summary.Reports)
        {
            if (!report.Success || report.ResultStatistics is null)
            {
                throw new InvalidOperationException($"{report.BenchmarkCase.DisplayInfo} produced no result; see the log above.");
            }

            measured.Add((report, string.Join(", ", report.BenchmarkCase.Descriptor.Categories)));
        }

        if (measured.Count == 0)
        {
            throw new InvalidOperationException($"Suite {info.Id} ran no benchmark.");
        }

        var rows = new List<BenchRow>();
        foreach (var (report, category) in measured)
        {
            var baseline = measured.FirstOrDefault(m => m.Category == category && m.Report.BenchmarkCase.Descriptor.Baseline).Report;
            // Medians: an iteration slowed down by another process on this shared machine moves them least.
            var median = report.ResultStatistics!.Median;
            var bytes = Bytes(report);
            var baseMedian = baseline?.ResultStatistics?.Median;
            var baseBytes = baseline is null ? null : Bytes(baseline);
            var method = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            rows.Add(new BenchRow(
                method,
                report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''),
                category,
                report.BenchmarkCase.Descriptor.Baseline,
                method.StartsWith("SharedCall", StringComparison.Ordinal) || method.StartsWith("JobDeduplicator", StringComparison.Ordinal),
                median,
                report.ResultStatistics.Mean,
                report.ResultStatistics.StandardDeviation,
                bytes,
                baseMedian is > 0 ? median / baseMedian : null,
                Format.BytesRatio(bytes, baseBytes),
                HandlerRunLog.Find(method)));
        }

        return new SuiteResult(info, rows);
    }

    private static double? Bytes(BenchmarkReport report)
    {
        double? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
        return bytes;
    }
}
