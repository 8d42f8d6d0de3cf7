namespace JobDedup.Benchmarks.Load;

/// <summary>The Stopwatch load of the three pipelines, as measured.</summary>
public sealed record PipelineLoadResult(int Jobs, int Keys, int Producers, int Window, int Rounds, IReadOnlyList<PipelineLoadRow> Rows)
{
    public PipelineLoadRow Baseline => Rows.First(r => r.IsBaseline);

    public PipelineLoadRow Subject => Rows.First(r => r.IsSubject);

    public double Ratio => Subject.JobsPerSecond / Baseline.JobsPerSecond;

    /// <summary>Gets the ratio of jobs per CPU-second: the same comparison by CPU time used rather than by wall clock.</summary>
    public double CpuRatio => Baseline.CpuNsPerJob / Subject.CpuNsPerJob;
}
