namespace JobDedup.Benchmarks.Load;

/// <summary>
/// One pipeline's result in the Stopwatch load: the median round and the spread, and the CPU time the process used per
/// job (which other processes competing for the cores inflate much less than wall-clock time).
/// </summary>
public sealed record PipelineLoadRow(
    string Label,
    bool IsBaseline,
    bool IsSubject,
    double JobsPerSecond,
    double MinJobsPerSecond,
    double MaxJobsPerSecond,
    TimeSpan Elapsed,
    double BytesPerJob,
    double CpuNsPerJob,
    long? HandlerRuns);
