using JobDedup.RabbitMq.Consuming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.RabbitMq.Tests.Connections;

/// <summary>A password the broker refuses: the consumer says so, naming the user and the setting, and never hides it.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WrongPasswordTests(Broker broker)
{
    [Fact]
    public async Task Start_FailFastOnStartAndAWrongPassword_HostStartFailsSayingTheBrokerRefusedTheUser()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "wrong-password-fail-fast");
        var wrong = WrongPassword();
        using var host = ConsumerHost.Build(
            queue,
            (_, _, _) => ValueTask.FromResult("ok"),
            consumer: o =>
            {
                o.ConnectionUri = wrong;
                o.FailFastOnStart = true;
            });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync().Within());

        Assert.Contains($"refused the credentials of user '{User}' (ACCESS_REFUSED)", error.Message, StringComparison.Ordinal);
        Assert.Contains("the option ConnectionUri", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("reachable", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_AWrongPasswordWithoutFailFast_HealthCheckReportsTheRefusalAndEveryTryIsLoggedAsAnError()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "wrong-password-health");
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        var logs = new LogSink();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.Services
            .AddJobDedup<RabbitMqMessage, string>(queue.Name)
            .UseHandler((_, _, _) => ValueTask.FromResult("ok"))
            .AddRabbitMqConsumer(o =>
            {
                o.ConnectionUri = WrongPassword();
                o.Queue = queue.Name;
            });
        using var host = builder.Build();
        await host.StartAsync().Within();
        var consumer = host.Services.GetRequiredKeyedService<RabbitMqConsumer<RabbitMqMessage, string>>(queue.Name);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync();
        await Watchdog.Until(() => logs.Count(2054) >= 2, "the first try and a try in the background are logged as refused credentials");
        await host.StopAsync().Within();

        var entry = report.Entries[$"rabbitmq-{queue.Name}"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains($"refused the credentials of user '{User}' (ACCESS_REFUSED)", entry.Description, StringComparison.Ordinal);
        Assert.Contains("ConnectionUri", entry.Description, StringComparison.Ordinal);
        Assert.All(logs.Events.Where(e => e.Id.Id == 2054), e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Equal(ConsumerState.Stopped, consumer.State);
    }

    [Fact]
    public async Task ConnectAsync_PublisherWithAWrongPassword_SaysTheBrokerRefusedTheUser()
    {
        await using var publisher = new RabbitMqJobPublisher(new RabbitMqPublisherOptions { ConnectionUri = WrongPassword(), RoutingKey = "q" });

        var error = await Assert.ThrowsAsync<JobPublishException>(() => publisher.ConnectAsync().Within());

        Assert.Contains($"refused the credentials of user '{User}' (ACCESS_REFUSED)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The test broker's own user.</summary>
    private static string User => Uri.UnescapeDataString(new Uri(Broker.Uri).UserInfo.Split(':')[0]);

    /// <summary>The test broker's address with its user and a wrong password: it refuses the login, and no connection opens.</summary>
    private static string WrongPassword() => new UriBuilder(Broker.Uri) { UserName = User, Password = "not-the-password" }.Uri.ToString();
}
