using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace JobDedup.Benchmarks;

/// <summary>
/// A short job that fits every suite in a few minutes on 2 cores: in process (no generated project to build), one
/// launch, a few warm-up and measured iterations of about <see cref="IterationMilliseconds"/> ms, allocations measured.
/// The iteration counts can be lowered from the command line (<c>--warmup N --iterations N</c>) for a quicker run; the
/// page says which were used.
/// </summary>
public sealed class MicroConfig : ManualConfig
{
    public const int DefaultWarmupIterations = 3;
    public const int DefaultMeasuredIterations = 15;
    public const int IterationMilliseconds = 250;

    public MicroConfig(string artifactsPath, ILogger logger, int warmupIterations = DefaultWarmupIterations, int measuredIterations = DefaultMeasuredIterations)
    {
        WarmupIterations = warmupIterations;
        MeasuredIterations = measuredIterations;
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(warmupIterations)
            .WithIterationCount(measuredIterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(IterationMilliseconds))
            .WithId("short-inprocess"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumnProvider(DefaultColumnProviders.Instance);
        AddLogger(logger);
        WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared));
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        WithArtifactsPath(artifactsPath);
        WithOptions(ConfigOptions.DisableLogFile);
    }

    public int WarmupIterations { get; }

    public int MeasuredIterations { get; }

    /// <summary>Gets a value indicating whether the iteration counts are the defaults the page's numbers are usually measured with.</summary>
    public bool IsDefault => WarmupIterations == DefaultWarmupIterations && MeasuredIterations == DefaultMeasuredIterations;
}
