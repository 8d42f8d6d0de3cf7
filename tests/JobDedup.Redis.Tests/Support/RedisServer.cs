using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace JobDedup.Redis.Tests.Support;

/// <summary>
/// The real Redis the tests run against: JOBDEDUP_REDIS, or the local one scripts/redis.sh starts (the same address as
/// <c>scripts/redis.sh connection-string</c>). Without a server every test fails with a message saying how to start
/// one; none is skipped.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private ConnectionMultiplexer? _connection;

    public string Configuration { get; } = Resolve();

    /// <summary>A connection of the tests' own, to look at and change what the code under test keeps.</summary>
    public IDatabase Database => _connection!.GetDatabase();

    public async Task InitializeAsync()
    {
        try
        {
            var options = ConfigurationOptions.Parse(Configuration);
            options.ConnectTimeout = 3000;
            options.AbortOnConnectFail = true;
            _connection = await ConnectionMultiplexer.ConnectAsync(options);
            await _connection.GetDatabase().PingAsync();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"No Redis answers at {Configuration} ({ex.Message}). Start one with: scripts/redis.sh start " +
                "(or point JOBDEDUP_REDIS at a server with a StackExchange.Redis configuration string).",
                ex);
        }
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    /// <summary>A namespace no other test uses.</summary>
    public static string NewNamespace() => "jdt-" + Guid.NewGuid().ToString("N")[..12];

    public SharedCache Cache(string ns, Action<SharedCacheOptions>? configure = null, TimeProvider? time = null, ILoggerFactory? logs = null)
    {
        var options = new SharedCacheOptions { Configuration = Configuration, Namespace = ns };
        configure?.Invoke(options);
        return new SharedCache(options, logs, time);
    }

    // Mirrors scripts/redis.sh connection-string.
    private static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("JOBDEDUP_REDIS") is { Length: > 0 } configured)
        {
            return configured;
        }

        var dir = Environment.GetEnvironmentVariable("JOBDEDUP_REDIS_DIR") is { Length: > 0 } d ? d : "/tmp/jobdedup-redis";
        var portFile = Path.Combine(dir, "port");
        var port = File.Exists(portFile) ? File.ReadAllText(portFile).Trim() : "6379";
        return $"127.0.0.1:{port}";
    }
}
