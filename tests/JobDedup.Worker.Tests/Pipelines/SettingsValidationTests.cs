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

    [Fact]
    public void Validate_EmptyHeaderName_MeansTheHeaderIsNotSent()
    {
        Assert.Empty(WorkerPipelines.Validate(Settings(p => p.Handler.Headers.Attempt = string.Empty)));
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
