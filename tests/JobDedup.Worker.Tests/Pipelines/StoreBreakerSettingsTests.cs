using JobDedup.RabbitMq;
using JobDedup.Worker.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobDedup.Worker.Tests.Pipelines;

/// <summary>The outcome store's breaker settings of a pipeline: read from configuration, handed to its deduplicator, checked by path.</summary>
public sealed class StoreBreakerSettingsTests
{
    [Fact]
    public void Register_StoreBreakerSettings_ReachThePipelinesDeduplicator()
    {
        var configuration = Configuration(
            ("StoreFailureRatio", "0.25"),
            ("StoreMinimumThroughput", "12"),
            ("StoreSamplingDuration", "00:00:40"),
            ("StoreBreakDuration", "00:00:03"));
        Assert.Empty(WorkerPipelines.CheckReadable(configuration));
        var settings = WorkerPipelines.Read(configuration);
        Assert.Empty(WorkerPipelines.Validate(settings));
        var services = new ServiceCollection();
        services.AddLogging();

        WorkerPipelines.Register(services, settings);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<JobDedupOptions<RabbitMqMessage>>>().Get("orders");

        Assert.Equal(0.25, options.StoreFailureRatio);
        Assert.Equal(12, options.StoreMinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(40), options.StoreSamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(3), options.StoreBreakDuration);
    }

    [Fact]
    public void Register_NoStoreBreakerSettings_KeepsTheEngineDefaults()
    {
        var settings = WorkerPipelines.Read(Configuration());
        var services = new ServiceCollection();
        services.AddLogging();

        WorkerPipelines.Register(services, settings);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<JobDedupOptions<RabbitMqMessage>>>().Get("orders");

        var defaults = new JobDedupOptions<RabbitMqMessage>();
        Assert.Equal(defaults.StoreFailureRatio, options.StoreFailureRatio);
        Assert.Equal(defaults.StoreMinimumThroughput, options.StoreMinimumThroughput);
        Assert.Equal(defaults.StoreSamplingDuration, options.StoreSamplingDuration);
        Assert.Equal(defaults.StoreBreakDuration, options.StoreBreakDuration);
    }

    [Fact]
    public void Validate_StoreFailureRatioAboveOne_IsRefusedNamingItsPath()
    {
        var settings = WorkerPipelines.Read(Configuration(("StoreFailureRatio", "1.5")));

        var problem = Assert.Single(WorkerPipelines.Validate(settings));

        Assert.StartsWith("JobDedup:Pipelines:orders:StoreFailureRatio must be greater than 0 and at most 1", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckReadable_StoreBreakDurationThatIsNotADuration_IsRefusedNamingItsPath()
    {
        var problem = Assert.Single(WorkerPipelines.CheckReadable(Configuration(("StoreBreakDuration", "five seconds"))));

        Assert.Equal("JobDedup:Pipelines:orders:StoreBreakDuration is 'five seconds', which is not a duration such as 00:00:30 (hh:mm:ss) or 1.00:00:00 (a day).", problem);
    }

    private static IConfiguration Configuration(params (string Name, string Value)[] pipeline)
    {
        var values = new Dictionary<string, string?>
        {
            ["JobDedup:Pipelines:orders:Queue"] = "orders",
            ["JobDedup:Pipelines:orders:Handler:Url"] = "http://127.0.0.1:8080/orders",
        };
        foreach (var (name, value) in pipeline)
        {
            values[$"JobDedup:Pipelines:orders:{name}"] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
