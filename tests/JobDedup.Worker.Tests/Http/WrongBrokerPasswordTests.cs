using System.Net;
using System.Text.Json;
using JobDedup.Worker.Tests.Support;

namespace JobDedup.Worker.Tests.Http;

/// <summary>A broker password the broker refuses: the worker says so, naming the user and its setting, at start or in its health.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WrongBrokerPasswordTests(Broker broker)
{
    [Fact]
    public async Task Worker_WrongBrokerPassword_ExitsSayingTheBrokerRefusedTheUserAndNamingTheSetting()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-wrong-password");
        await using var sink = await HttpSink.StartAsync();
        var environment = WorkerSettingsFor.Pipeline(queue, sink, ("JobDedup__RabbitMq__Uri", WrongPassword()));
        await using var worker = WorkerProcess.Start(environment);

        var exit = await worker.WaitForExitAsync();

        // The worker's own last words (the host's failure log above them carries the client's exception chain).
        var stopped = worker.Output[worker.Output.IndexOf("JobDedup worker stopped:", StringComparison.Ordinal)..];
        Assert.Equal(1, exit);
        Assert.Contains($"refused the credentials of user '{User}' (ACCESS_REFUSED)", stopped, StringComparison.Ordinal);
        Assert.Contains("JobDedup:RabbitMq:Uri", stopped, StringComparison.Ordinal);
        Assert.DoesNotContain("reachable", stopped, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_WrongBrokerPasswordWithoutFailFast_Answers503SayingTheBrokerRefusedTheUser()
    {
        await using var queue = await TestQueue.CreateAsync(broker, "worker-wrong-password-health");
        await using var sink = await HttpSink.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(WorkerSettingsFor.Pipeline(
            queue,
            sink,
            ("JobDedup__RabbitMq__Uri", WrongPassword()),
            ("JobDedup__RabbitMq__FailFastOnStart", "false")));

        using var response = await worker.Http.GetAsync(new Uri("/healthz/ready", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var consumer = body.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "rabbitmq-orders");
        Assert.Equal("Unhealthy", consumer.GetProperty("status").GetString());
        Assert.Contains($"refused the credentials of user '{User}' (ACCESS_REFUSED)", consumer.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The test broker's own user.</summary>
    private static string User => Uri.UnescapeDataString(new Uri(Broker.Uri).UserInfo.Split(':')[0]);

    /// <summary>The test broker's address with its user and a wrong password.</summary>
    private static string WrongPassword() => new UriBuilder(Broker.Uri) { Password = "not-the-password" }.Uri.ToString();
}
