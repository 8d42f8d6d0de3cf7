using System.Diagnostics;

namespace JobDedup.RabbitMq.Tests.Support;

/// <summary>Drives the local broker with rabbitmqctl: closing client connections the way a network failure would.</summary>
internal static class BrokerControl
{
    private static string Node => Environment.GetEnvironmentVariable("RABBITMQ_NODENAME") ?? "rabbit@localhost";

    /// <summary>Has the broker close one client connection, found by its client-provided name.</summary>
    public static async Task CloseConnectionAsync(string connectionName)
    {
        var listing = await RabbitMqCtlAsync("list_connections", "-q", "--no-table-headers", "pid", "client_properties");
        var line = listing.Split('\n').FirstOrDefault(l => l.Contains($"{{\"connection_name\",\"{connectionName}\"}}", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No connection named {connectionName}:\n{listing}");
        await RabbitMqCtlAsync("close_connection", line.Split('\t')[0].Trim(), "test: connection loss");
    }

    /// <summary>Asks the broker how many messages of <paramref name="queue"/> are delivered and not yet acknowledged.</summary>
    public static async Task<int> UnackedAsync(string queue)
    {
        var listing = await RabbitMqCtlAsync("list_queues", "-q", "--no-table-headers", "name", "messages_unacknowledged");
        var line = listing.Split('\n').Select(l => l.Split('\t')).FirstOrDefault(columns => columns.Length == 2 && columns[0] == queue)
            ?? throw new InvalidOperationException($"No queue named {queue}:\n{listing}");
        return int.Parse(line[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Asks the broker how many consumers <paramref name="queue"/> has.</summary>
    public static async Task<int> ConsumersAsync(string queue)
    {
        var listing = await RabbitMqCtlAsync("list_queues", "-q", "--no-table-headers", "name", "consumers");
        var line = listing.Split('\n').Select(l => l.Split('\t')).FirstOrDefault(columns => columns.Length == 2 && columns[0] == queue)
            ?? throw new InvalidOperationException($"No queue named {queue}:\n{listing}");
        return int.Parse(line[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Has the broker close every client connection.</summary>
    public static Task CloseAllConnectionsAsync() => RabbitMqCtlAsync("close_all_connections", "test: connection loss");

    private static async Task<string> RabbitMqCtlAsync(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("rabbitmqctl", ["-n", Node, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().Within();
        Assert.True(process.ExitCode == 0, $"rabbitmqctl {string.Join(' ', arguments)} failed: {await error}");
        return await output;
    }
}
