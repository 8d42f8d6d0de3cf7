using StackExchange.Redis;

namespace JobDedup.Redis.Connection;

/// <summary>What the cache and the outcome store share about reaching Redis: checking the settings, naming the server, configuring the client.</summary>
internal static class RedisConfiguration
{
    /// <summary>Adds a problem when neither a configuration string nor a connection is given, or the string does not parse.</summary>
    public static void Validate(List<string> errors, string configuration, IConnectionMultiplexer? connection)
    {
        if (connection is not null)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(configuration))
        {
            errors.Add("Configuration must be set to a Redis configuration string such as 127.0.0.1:6379 (or set Connection).");
            return;
        }

        try
        {
            _ = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"Configuration is not a valid Redis configuration string: {ex.Message}");
        }
    }

    /// <summary>Adds a problem when a key prefix is empty, too long or holds control characters.</summary>
    public static void ValidatePrefix(List<string> errors, string option, string value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength || value.Any(char.IsControl))
        {
            errors.Add($"{option} must be 1 to {maxLength} characters without control characters, not '{value}'.");
        }
    }

    /// <summary>Adds a problem when a timeout is outside its range.</summary>
    public static void ValidateTimeout(List<string> errors, string option, TimeSpan value)
    {
        if (value < TimeSpan.FromMilliseconds(10) || value > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{option} must be between 10 ms and 5 minutes, not {value}.");
        }
    }

    /// <summary>The server(s), as <c>host:port</c>, for messages: never the password.</summary>
    public static string Describe(IConnectionMultiplexer? connection, string configuration) =>
        connection is not null
            ? string.Join(",", connection.GetEndPoints().Select(e => e.ToString()))
            : string.Join(",", ConfigurationOptions.Parse(configuration).EndPoints.Select(e => e.ToString()));

    /// <summary>Connects with a configuration string; commands time out after <paramref name="operationTimeout"/> and a server that is down never blocks a caller.</summary>
    public static async Task<IConnectionMultiplexer> ConnectAsync(string configuration, TimeSpan operationTimeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        var timeout = (int)operationTimeout.TotalMilliseconds;

        // The client keeps reconnecting in the background.
        options.AbortOnConnectFail = false;
        options.AsyncTimeout = timeout;
        options.SyncTimeout = timeout;
        options.ConnectTimeout = Math.Max(timeout, 1000);
        options.ClientName ??= "JobDedup";
        return await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
    }
}
