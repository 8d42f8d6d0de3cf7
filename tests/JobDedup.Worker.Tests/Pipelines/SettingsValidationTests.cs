using Microsoft.Extensions.Configuration;
using JobDedup.Worker.Pipelines;
using JobDedup.Worker.Settings;

namespace JobDedup.Worker.Tests.Pipelines;

public sealed class SettingsValidationTests
{
    [Fact]
    public void Validate_Defaults_AreWithinTheHandlerRunsBound()
    {
        var problems = WorkerPipelines.Validate(Settings(_ => { }));

        Assert.Empty(problems);
        var defaults = new PipelineSettings();
        Assert.Equal(6, (defaults.MaxRetryAttempts + 1) * defaults.MaxDeliveryAttempts);
        Assert.Equal(6, defaults.MaxHandlerRunsPerMessage);
        Assert.True(new WorkerSettings().RabbitMq.FailFastOnStart);
    }

    [Fact]
    public void Validate_RetriesTimesDeliveriesOverTheBound_IsRefusedNamingTheSettings()
    {
        var problems = WorkerPipelines.Validate(Settings(p =>
        {
            p.MaxRetryAttempts = 2;
            p.MaxDeliveryAttempts = 5;
        }));

        var problem = Assert.Single(problems);
        Assert.Contains("15 times", problem, StringComparison.Ordinal);
        Assert.Contains("JobDedup:Pipelines:orders:MaxHandlerRunsPerMessage", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Idempotency Key")]
    [InlineData("X-Key\r\nX-Evil")]
    [InlineData("Schlüssel")]
    public void Validate_HeaderNameThatIsNotAToken_IsRefusedWithItsPath(string name)
    {
        var problems = WorkerPipelines.Validate(Settings(p => p.Handler.Headers.IdempotencyKey = name));

        var problem = Assert.Single(problems);
        Assert.StartsWith("JobDedup:Pipelines:orders:Handler:Headers:IdempotencyKey must be an HTTP header name", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(30_001)]
    public void Validate_RequestTimeoutOutsideTenMillisecondsToAttemptTimeout_IsRefusedNamingBoth(int milliseconds)
    {
        var problems = WorkerPipelines.Validate(Settings(p =>
        {
            p.AttemptTimeout = TimeSpan.FromSeconds(30);
            p.Handler.RequestTimeout = TimeSpan.FromMilliseconds(milliseconds);
        }));

        var problem = Assert.Single(problems);
        Assert.StartsWith("JobDedup:Pipelines:orders:Handler:RequestTimeout must be from 10 ms up to JobDedup:Pipelines:orders:AttemptTimeout (00:00:30)", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(30_000)]
    public void Validate_RequestTimeoutWithinAttemptTimeout_IsAccepted(int milliseconds)
    {
        Assert.Empty(WorkerPipelines.Validate(Settings(p =>
        {
            p.AttemptTimeout = TimeSpan.FromSeconds(30);
            p.Handler.RequestTimeout = TimeSpan.FromMilliseconds(milliseconds);
        })));
    }

    [Fact]
    public void Validate_EmptyHeaderName_MeansTheHeaderIsNotSent()
    {
        Assert.Empty(WorkerPipelines.Validate(Settings(p => p.Handler.Headers.Attempt = string.Empty)));
    }

    [Theory]
    [InlineData(DuplicatePolicyKind.Join)]
    [InlineData(DuplicatePolicyKind.Reject)]
    [InlineData(DuplicatePolicyKind.Replace)]
    [InlineData(DuplicatePolicyKind.KeepLatest)]
    public void Validate_OnDuplicateWithoutSettingsOfItsOwn_IsAccepted(DuplicatePolicyKind policy)
    {
        Assert.Empty(WorkerPipelines.Validate(Settings(p => p.OnDuplicate = policy)));
    }

    [Fact]
    public void Validate_DebounceWithDelayAndMaxWait_IsAccepted()
    {
        Assert.Empty(WorkerPipelines.Validate(Settings(p =>
        {
            p.OnDuplicate = DuplicatePolicyKind.Debounce;
            p.DebounceDelay = TimeSpan.FromSeconds(5);
            p.DebounceMaxWait = TimeSpan.FromMinutes(1);
        })));
    }

    [Theory]
    [InlineData(null, "00:01:00", "JobDedup:Pipelines:orders:DebounceDelay must be set when OnDuplicate is Debounce")]
    [InlineData("00:00:00", "00:01:00", "JobDedup:Pipelines:orders:DebounceDelay must be greater than zero")]
    [InlineData("00:00:05", null, "JobDedup:Pipelines:orders:DebounceMaxWait must be set when OnDuplicate is Debounce")]
    [InlineData("00:00:05", "00:00:04", "JobDedup:Pipelines:orders:DebounceMaxWait must be at least DebounceDelay")]
    [InlineData("00:00:05", "2.00:00:00", "JobDedup:Pipelines:orders:DebounceMaxWait must be at least DebounceDelay")]
    public void Validate_DebounceWithAMissingOrWrongTime_IsRefusedNamingTheSetting(string? delay, string? maxWait, string expected)
    {
        var problems = WorkerPipelines.Validate(Settings(p =>
        {
            p.OnDuplicate = DuplicatePolicyKind.Debounce;
            p.DebounceDelay = delay is null ? null : TimeSpan.Parse(delay, System.Globalization.CultureInfo.InvariantCulture);
            p.DebounceMaxWait = maxWait is null ? null : TimeSpan.Parse(maxWait, System.Globalization.CultureInfo.InvariantCulture);
        }));

        var problem = Assert.Single(problems);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DebounceTimesWithoutDebounce_AreRefusedNamingEach()
    {
        var problems = WorkerPipelines.Validate(Settings(p =>
        {
            p.OnDuplicate = DuplicatePolicyKind.KeepLatest;
            p.DebounceDelay = TimeSpan.FromSeconds(5);
            p.DebounceMaxWait = TimeSpan.FromMinutes(1);
        }));

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("JobDedup:Pipelines:orders:DebounceDelay is set, but OnDuplicate is KeepLatest", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("JobDedup:Pipelines:orders:DebounceMaxWait is set, but OnDuplicate is KeepLatest", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OnDuplicateThrottle_IsRefusedListingTheChoices()
    {
        var problem = Assert.Single(WorkerPipelines.Validate(Settings(p => p.OnDuplicate = DuplicatePolicyKind.Throttle)));

        Assert.Equal("JobDedup:Pipelines:orders:OnDuplicate must be Join, Reject, Replace, KeepLatest or Debounce, not Throttle.", problem);
    }

    [Fact]
    public void CheckReadable_OnDuplicateThatIsNoPolicy_IsRefusedWithItsPathAndTheChoices()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["JobDedup:Pipelines:orders:OnDuplicate"] = "Latest" })
            .Build();

        var problem = Assert.Single(WorkerPipelines.CheckReadable(configuration));

        Assert.StartsWith("JobDedup:Pipelines:orders:OnDuplicate is 'Latest', which is not one of: Join, Reject, Replace, KeepLatest, Debounce", problem, StringComparison.Ordinal);
    }

    private static WorkerSettings Settings(Action<PipelineSettings> configure)
    {
        var settings = new WorkerSettings();
        var pipeline = new PipelineSettings { Queue = "orders" };
        pipeline.Handler.Url = "http://127.0.0.1:8080/orders";
        configure(pipeline);
        settings.Pipelines["orders"] = pipeline;
        return settings;
    }
}
