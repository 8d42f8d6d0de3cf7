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
/// launch, 3 warm-up and <see cref="MeasuredIterations"/> measured iterations of about 250 ms, allocations measured.
/// </summary>
public sealed class MicroConfig : ManualConfig
{
    public const int WarmupIterations = 3;
    public const int MeasuredIterations = 15;
    public const int IterationMilliseconds = 250;

    public MicroConfig(string artifactsPath, ILogger logger)
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(WarmupIterations)
            .WithIterationCount(MeasuredIterations)
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
}
