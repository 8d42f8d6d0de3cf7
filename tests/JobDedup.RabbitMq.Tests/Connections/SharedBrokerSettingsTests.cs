using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobDedup.RabbitMq.Tests.Connections;

/// <summary>The broker settings of <c>AddJobDedupRabbitMq</c>: every consumer and publisher takes them unless it sets its own.</summary>
public sealed class SharedBrokerSettingsTests
{
    private const string Shared = "amqp://app:secret@broker.example:5672/jobs";

    [Fact]
    public void ConsumerAndPublisher_SettingNothingThemselves_TakeTheSharedAddressNameAndRecoveryInterval()
    {
        using var provider = Provider(consumer: _ => { }, publisher: _ => { });

        var consumer = provider.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<string, string>>>().Get("orders");
        var publisher = provider.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value;

        Assert.Equal(Shared, consumer.ConnectionUri);
        Assert.Equal("my-app", consumer.ConnectionName);
        Assert.Equal(TimeSpan.FromSeconds(2), consumer.RecoveryInterval);
        Assert.Equal(Shared, publisher.ConnectionUri);
        Assert.Equal(TimeSpan.FromSeconds(2), publisher.RecoveryInterval);
    }

    [Fact]
    public void Consumer_SettingItsOwnAddress_KeepsItAndTakesTheRestFromTheSharedSettings()
    {
        using var provider = Provider(consumer: o => o.ConnectionUri = "amqp://other:pw@elsewhere:5672/", publisher: o => o.RecoveryInterval = TimeSpan.FromSeconds(9));

        var consumer = provider.GetRequiredService<IOptionsMonitor<RabbitMqConsumerOptions<string, string>>>().Get("orders");
        var publisher = provider.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value;

        Assert.Equal("amqp://other:pw@elsewhere:5672/", consumer.ConnectionUri);
        Assert.Equal(TimeSpan.FromSeconds(2), consumer.RecoveryInterval);
        Assert.Equal(Shared, publisher.ConnectionUri);
        Assert.Equal(TimeSpan.FromSeconds(9), publisher.RecoveryInterval);
    }

    [Fact]
    public void Options_WithoutSharedSettings_KeepTheirDefaults()
    {
        var services = new ServiceCollection();
        services.AddJobPublisher(o => o.RoutingKey = "q");
        using var provider = services.BuildServiceProvider();

        var publisher = provider.GetRequiredService<IOptions<RabbitMqPublisherOptions>>().Value;

        Assert.Equal("amqp://guest:guest@127.0.0.1:5672/", publisher.ConnectionUri);
        Assert.Null(publisher.ConnectionName);
        Assert.Equal(TimeSpan.FromSeconds(5), publisher.RecoveryInterval);
    }

    [Fact]
    public async Task AddJobDedupRabbitMq_AnAddressThatIsNotAmqp_HostStartFailsNamingTheSetting()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddJobDedupRabbitMq(o => o.ConnectionUri = "http://broker.example/");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Within());

        Assert.Contains("AddJobDedupRabbitMq", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionUri must be an amqp:// or amqps:// address", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Provider(Action<RabbitMqConsumerOptions<string, string>> consumer, Action<RabbitMqPublisherOptions> publisher)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddJobDedupRabbitMq(o =>
        {
            o.ConnectionUri = Shared;
            o.ConnectionName = "my-app";
            o.RecoveryInterval = TimeSpan.FromSeconds(2);
        });
        services.AddJobDedup<string, string>("orders")
            .UseHandler((_, _, _) => ValueTask.FromResult("ok"))
            .AddRabbitMqConsumer(o =>
            {
                o.Queue = "orders";
                consumer(o);
            });
        services.AddJobPublisher(o =>
        {
            o.RoutingKey = "orders";
            publisher(o);
        });
        return services.BuildServiceProvider();
    }
}
