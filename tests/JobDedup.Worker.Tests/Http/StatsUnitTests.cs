using JobDedup.Worker.Http;
using JobDedup.Worker.Http.Stats;
using JobDedup.Worker.Pipelines;
using JobDedup.Worker.Settings;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.Worker.Tests.Http;

public sealed class StatsUnitTests
{
    [Fact]
    public void StatsRing_PastItsCapacity_KeepsTheNewestOldestFirst()
    {
        var ring = new StatsRing<int>(3);
        Assert.Empty(ring.ToArray());

        for (var i = 1; i <= 5; i++)
        {
            ring.Add(i);
        }

        Assert.Equal([3, 4, 5], ring.ToArray());
    }

    [Fact]
    public void LatencyHistogram_OneSecondOfDurations_GivesItsPercentilesAndStartsOver()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 90; i++)
        {
            histogram.Record(3); // bucket (2.5, 5]
        }

        for (var i = 0; i < 10; i++)
        {
            histogram.Record(400); // bucket (250, 500]
        }

        histogram.Record(70_000); // above the last bound

        var second = histogram.TakeSecond();

        Assert.Equal(101, second.Attempts);
        Assert.Equal(5, second.P50);
        Assert.Equal(500, second.P95);
        Assert.Equal(70_000, second.Max);
        Assert.Equal(LatencySummary.None, histogram.TakeSecond());
    }

    [Fact]
    public void LatencyHistogram_PercentileInABucketAboveTheLongest_IsTheLongest()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1.2); // bucket (1, 2.5]

        var second = histogram.TakeSecond();

        Assert.Equal(1.2, second.P50);
        Assert.Equal(1.2, second.P95);
    }

    [Fact]
    public void Validate_BadHttpAndOtlpSettings_NamesEachSetting()
    {
        var settings = new WorkerSettings
        {
            Http = new HttpSettings { Address = "not an address", Port = 70000, HottestKeys = 0, History = TimeSpan.FromSeconds(5) },
            Otlp = new OtlpSettings { Endpoint = "collector:4317", ExportInterval = TimeSpan.Zero },
        };
        settings.Pipelines["orders"] = new PipelineSettings { Queue = "orders", Handler = { Url = "http://127.0.0.1:1/" } };

        var problems = WorkerPipelines.Validate(settings);

        Assert.Contains(problems, p => p.StartsWith("JobDedup:Http:Address must be an IP address", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("JobDedup:Http:Port must be between 0 and 65535", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("JobDedup:Http:HottestKeys", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("JobDedup:Http:History", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("JobDedup:Otlp:Endpoint must be an absolute http://", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("JobDedup:Otlp:ExportInterval", StringComparison.Ordinal));
        Assert.Equal(6, problems.Count);
    }

    [Fact]
    public void Validate_PortZeroOnLocalhost_AsksForAnIpAddress()
    {
        var settings = new WorkerSettings { Http = new HttpSettings { Address = "localhost", Port = 0 } };
        settings.Pipelines["orders"] = new PipelineSettings { Queue = "orders", Handler = { Url = "http://127.0.0.1:1/" } };

        var problem = Assert.Single(WorkerPipelines.Validate(settings));

        Assert.StartsWith("JobDedup:Http:Port 0 needs an IP address", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_HaveNoProblem()
    {
        var settings = new WorkerSettings();
        settings.Pipelines["orders"] = new PipelineSettings { Queue = "orders", Handler = { Url = "http://127.0.0.1:1/" } };

        Assert.Empty(WorkerPipelines.Validate(settings));
        Assert.True(settings.Http.Enabled);
        Assert.Equal("127.0.0.1", settings.Http.Address);
        Assert.Equal(8089, settings.Http.Port);
        Assert.False(settings.Http.ShowKeys);
        Assert.Null(settings.Otlp.Endpoint);
    }

    [Theory]
    [InlineData(HealthStatus.Healthy, 200)]
    [InlineData(HealthStatus.Degraded, 200)]
    [InlineData(HealthStatus.Unhealthy, 503)]
    public void ReadyStatusCode_ByHealth_TakesOnlyUnhealthyOutOfService(HealthStatus status, int code) =>
        Assert.Equal(code, HealthEndpoints.StatusCode(status));
}
