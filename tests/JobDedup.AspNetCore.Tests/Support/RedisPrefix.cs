using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.AspNetCore.Tests.Support;

/// <summary>
/// A key prefix of the real Redis (JOBDEDUP_REDIS, or the one scripts/redis.sh starts) that one test owns. The keys
/// expire with the dedupe window; nothing else on the server is touched.
/// </summary>
public sealed class RedisPrefix
{
    public string Configuration { get; } = Resolve();

    public string Prefix { get; } = "jda:" + Guid.NewGuid().ToString("N")[..12];

    public void Use(JobDedupBuilder<IdempotentRequest, IdempotentResponse> builder) =>
        builder.UseRedisOutcomeStore(Configuration, o => o.Prefix = Prefix);

    /// <summary>Starts an application on this prefix, failing with how to start Redis when none answers.</summary>
    public async Task<OrdersApp> StartAsync(OrdersEndpoint? orders = null)
    {
        try
        {
            return await OrdersApp.StartAsync(engine: Use, orders: orders);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"The application did not start on Redis at {Configuration} ({ex.Message}). Start one with: scripts/redis.sh start (or point JOBDEDUP_REDIS at a server).", ex);
        }
    }

    // The address scripts/redis.sh connection-string prints.
    private static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("JOBDEDUP_REDIS") is { Length: > 0 } configured)
        {
            return configured;
        }

        var directory = Environment.GetEnvironmentVariable("JOBDEDUP_REDIS_DIR") is { Length: > 0 } d ? d : "/tmp/jobdedup-redis";
        var portFile = Path.Combine(directory, "port");
        return $"127.0.0.1:{(File.Exists(portFile) ? File.ReadAllText(portFile).Trim() : "6379")}";
    }
}
