using System.Diagnostics;
using System.Globalization;
using JobDedup.Bench.Reporting.Text;

namespace JobDedup.Benchmarks.Load;

/// <summary>
/// The <c>--pipeline</c> mode: the full job count through each pipeline, timed with <see cref="Stopwatch"/>, a few
/// rounds in turn so that noise from other processes falls on every pipeline alike; the median round is reported.
/// </summary>
public static class PipelineLoad
{
    public static async Task<PipelineLoadResult> RunAsync(int jobs, int rounds, int producers, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var workload = new PipelineWorkload(jobs, producers);
        progress.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"pipeline load: {jobs:N0} jobs, {PipelineWorkload.KeyCount:N0} keys, {workload.Producers} producers, {rounds} round(s)"));

        // A short warm-up of each, so the first measured round does not pay for JIT and thread-pool growth.
        var warmup = new PipelineWorkload(Math.Min(jobs, 50_000), producers);
        await warmup.RunRawChannelAsync().ConfigureAwait(false);
        await warmup.RunChannelWithReplyAsync().ConfigureAwait(false);
        await using (var warm = PipelineWorkload.CreateDeduplicator())
        {
            await warmup.RunDeduplicatorAsync(warm).ConfigureAwait(false);
        }

        var raw = new List<Measured>();
        var reply = new List<Measured>();
        var dedup = new List<Measured>();
        for (var round = 1; round <= rounds; round++)
        {
            raw.Add(await MeasureAsync(() => workload.RunRawChannelAsync(), jobs).ConfigureAwait(false));
            reply.Add(await MeasureAsync(() => workload.RunChannelWithReplyAsync(), jobs).ConfigureAwait(false));

            var deduplicator = PipelineWorkload.CreateDeduplicator();
            var measured = await MeasureAsync(() => workload.RunDeduplicatorAsync(deduplicator), jobs).ConfigureAwait(false);
            var stats = deduplicator.GetStats();
            await deduplicator.DisposeAsync().ConfigureAwait(false);
            dedup.Add(measured with { HandlerRuns = stats.Misses });

            progress.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  round {round}/{rounds}: raw channel {raw[^1].JobsPerSecond:N0} jobs/s, channel+reply {reply[^1].JobsPerSecond:N0} jobs/s, JobDeduplicator {dedup[^1].JobsPerSecond:N0} jobs/s ({stats.Misses:N0} handler runs, {stats.Hits:N0} joined)"));
        }

        return new PipelineLoadResult(jobs, PipelineWorkload.KeyCount, workload.Producers, workload.Window, rounds,
        [
            Summarize("raw bounded Channel", isBaseline: true, isSubject: false, raw),
            Summarize("Channel + reply per job", isBaseline: false, isSubject: false, reply),
            Summarize("JobDeduplicator.EnqueueAsync", isBaseline: false, isSubject: true, dedup),
        ]);
    }

    public static void Print(PipelineLoadResult result, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        output.Write(TextTable.Render(Header, result.Rows.Select(r => Cells(r, result.Baseline))));
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"JobDeduplicator / raw channel = {result.Ratio:0.000}x in jobs/s (target >= 0.5x: {(result.Ratio >= 0.5 ? "met" : "missed")}), {result.CpuRatio:0.000}x in jobs per CPU-second"));
    }

    public static string[] Header { get; } =
        ["pipeline", "jobs/s (median)", "min..max jobs/s", "time (median)", "jobs/s ratio", "CPU per job (median)", "jobs per CPU-second ratio", "bytes/job", "handler runs"];

    public static string[] Cells(PipelineLoadRow row, PipelineLoadRow baseline)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(baseline);
        return
        [
            row.Label,
            row.JobsPerSecond.ToString("N0", CultureInfo.InvariantCulture),
            string.Create(CultureInfo.InvariantCulture, $"{row.MinJobsPerSecond:N0}..{row.MaxJobsPerSecond:N0}"),
            string.Create(CultureInfo.InvariantCulture, $"{row.Elapsed.TotalMilliseconds:N0} ms"),
            (row.JobsPerSecond / baseline.JobsPerSecond).ToString("0.000", CultureInfo.InvariantCulture) + "x",
            string.Create(CultureInfo.InvariantCulture, $"{row.CpuNsPerJob:N0} ns"),
            (baseline.CpuNsPerJob / row.CpuNsPerJob).ToString("0.000", CultureInfo.InvariantCulture) + "x",
            row.BytesPerJob.ToString("N1", CultureInfo.InvariantCulture),
            row.HandlerRuns?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
        ];
    }

    private static async Task<Measured> MeasureAsync(Func<Task<long>> run, int jobs)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var done = await run().ConfigureAwait(false);
        watch.Stop();
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        process.Refresh();
        var cpuUsed = process.TotalProcessorTime - cpu;
        if (done != jobs)
        {
            throw new InvalidOperationException($"{done} of {jobs} jobs came through.");
        }

        return new Measured(watch.Elapsed, jobs / watch.Elapsed.TotalSeconds, (double)bytes / jobs, cpuUsed.TotalNanoseconds / jobs, null);
    }

    private static PipelineLoadRow Summarize(string label, bool isBaseline, bool isSubject, List<Measured> rounds)
    {
        var ordered = rounds.OrderBy(m => m.JobsPerSecond).ToList();
        var median = ordered[ordered.Count / 2];
        return new PipelineLoadRow(
            label,
            isBaseline,
            isSubject,
            median.JobsPerSecond,
            ordered[0].JobsPerSecond,
            ordered[^1].JobsPerSecond,
            median.Elapsed,
            median.BytesPerJob,
            rounds.Select(m => m.CpuNsPerJob).Order().ElementAt(rounds.Count / 2),
            median.HandlerRuns);
    }

    private sealed record Measured(TimeSpan Elapsed, double JobsPerSecond, double BytesPerJob, double CpuNsPerJob, long? HandlerRuns);
}
