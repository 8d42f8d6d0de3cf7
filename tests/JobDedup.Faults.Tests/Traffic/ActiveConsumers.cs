using System.Text.Json;
using JobDedup.Faults.Tests.Servers;

namespace JobDedup.Faults.Tests.Traffic;

/// <summary>Which connection (by its client-provided name) is the active consumer of each queue, as the broker node says.</summary>
internal static class ActiveConsumers
{
    /// <summary>Queue name → connection name of its active consumer, for the queues whose names start with <paramref name="prefix"/>.</summary>
    public static async Task<Dictionary<string, string>> ReadAsync(string prefix)
    {
        // Three listings at once: one round of rabbitmqctl is the resolution of every time measured with them.
        var listings = await Task.WhenAll(
            ListAsync("list_consumers", "queue_name", "channel_pid", "active"),
            ListAsync("list_channels", "pid", "connection"),
            ListAsync("list_connections", "pid", "client_properties"));
        var (consumers, channels, connections) = (listings[0], listings[1], listings[2]);
        var channelToConnection = channels.ToDictionary(c => c.GetProperty("pid").GetString()!, c => c.GetProperty("connection").GetString()!, StringComparer.Ordinal);
        var connectionNames = connections.ToDictionary(c => c.GetProperty("pid").GetString()!, ConnectionName, StringComparer.Ordinal);
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var consumer in consumers)
        {
            var queue = consumer.GetProperty("queue_name").GetString()!;
            if (!queue.StartsWith(prefix, StringComparison.Ordinal) || !consumer.GetProperty("active").GetBoolean())
            {
                continue;
            }

            var connection = channelToConnection.GetValueOrDefault(consumer.GetProperty("channel_pid").GetString()!);
            owners[queue] = connection is null ? "(unknown channel)" : connectionNames.GetValueOrDefault(connection, "(unknown connection)");
        }

        return owners;
    }

    private static async Task<List<JsonElement>> ListAsync(string command, params string[] columns)
    {
        var result = (await PrivateRabbitMq.CtlAsync([command, .. columns, "--formatter", "json", "-q"])).OrThrow(command);
        using var json = JsonDocument.Parse(result.Output);
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static string ConnectionName(JsonElement connection)
    {
        foreach (var property in connection.GetProperty("client_properties").EnumerateArray())
        {
            if (property[0].GetString() == "connection_name")
            {
                return property[2].GetString() ?? string.Empty;
            }
        }

        return string.Empty;
    }
}
