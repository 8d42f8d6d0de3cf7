using System.Diagnostics;
using System.Diagnostics.Metrics;
using JobDedup.RabbitMq;
using JobDedup.Redis;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JobDedup.OpenTelemetry.Tests;

public sealed class InstrumentationTests
{
    // Every package's name, as that package declares it: renaming one without the instrumentation fails here.
    public static TheoryData<string, string> SourceNames => new()
    {
        { "JobDedup.Core", JobDedupTelemetry.Name },
        { "JobDedup.RabbitMq", RabbitMqTelemetry.ActivitySourceName },
    };

    public static TheoryData<string, string> MeterNames => new()
    {
        { "JobDedup.Core", JobDedupTelemetry.Name },
        { "JobDedup.RabbitMq", RabbitMqTelemetry.MeterName },
        { "JobDedup.Redis", RedisTelemetry.MeterName },
    };

    [Theory]
    [MemberData(nameof(SourceNames))]
    public void AddJobDedupInstrumentation_OnTracerProvider_RecordsSpansOfEveryPackagesSource(string package, string name)
    {
        var spans = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder().AddJobDedupInstrumentation().AddInMemoryExporter(spans).Build();
        using var ours = new ActivitySource(name);
        using var other = new ActivitySource($"Unrelated.{Guid.NewGuid():N}");
        var operation = $"probe-{Guid.NewGuid():N}";

        ours.StartActivity(operation)?.Stop();
        other.StartActivity(operation)?.Stop();

        lock (spans)
        {
            Assert.Single(spans, s => s.OperationName == operation && s.Source.Name == name);
            Assert.DoesNotContain(spans, s => s.Source.Name == other.Name);
        }

        Assert.True(JobDedupInstrumentation.ActivitySourceNames.Contains(name), $"{package}'s source is listed");
    }

    [Theory]
    [MemberData(nameof(MeterNames))]
    public void AddJobDedupInstrumentation_OnMeterProvider_CollectsEveryPackagesMeter(string package, string name)
    {
        var metrics = new List<MetricSnapshot>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddJobDedupInstrumentation().AddInMemoryExporter(metrics).Build();
        using var ours = new Meter(name);
        using var other = new Meter($"Unrelated.{Guid.NewGuid():N}");
        var instrument = $"probe.{Guid.NewGuid():N}";

        ours.CreateCounter<long>(instrument).Add(3);
        other.CreateCounter<long>(instrument).Add(5);
        provider.ForceFlush();

        var seen = Assert.Single(metrics, m => m.Name == instrument);
        Assert.Equal(name, seen.MeterName);
        Assert.True(JobDedupInstrumentation.MeterNames.Contains(name), $"{package}'s meter is listed");
    }

    [Fact]
    public async Task AddJobDedupInstrumentation_RealEngineRun_IsRecordedAsHandleSpan()
    {
        var spans = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder().AddJobDedupInstrumentation().AddInMemoryExporter(spans).Build();
        var name = $"otel-{Guid.NewGuid():N}";
        await using (var dedup = new JobDeduplicator<string, int>((_, _, _) => ValueTask.FromResult(1), new JobDedupOptions<string> { Name = name, KeySelector = j => j }))
        {
            await dedup.EnqueueAsync("k").Within();
        }

        lock (spans)
        {
            Assert.Contains(spans, s => s.OperationName == JobDedupTelemetry.HandleSpan && Equals(s.GetTagItem(JobDedupTelemetry.DeduplicatorTag), name));
        }
    }
}
