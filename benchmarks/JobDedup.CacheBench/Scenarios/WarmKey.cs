using System.Diagnostics;
using StackExchange.Redis;

namespace JobDedup.CacheBench.Scenarios;

/// <summary>Hits per second on a warm key with concurrent loops, and Redis commands per request (from INFO commandstats).</summary>
internal static class WarmKey
{
    public static async Task<WarmKeyResult> RunAsync(string contender, string redis, TimeSpan duration, int clients)
    {
        await using var cache = Contenders.Contenders.Create(contender, redis, Names.NewNamespace());
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        await cache.GetAsync("warm", _ => ValueTask.FromResult("value"), TimeSpan.FromMinutes(10));
        await cache.GetAsync("warm", _ => ValueTask.FromResult("value"), TimeSpan.FromMinutes(10));
        var before = await CommandsAsync(server);
        var counts = new long[clients];
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                for (var n = 0; n < 64; n++)
                {
                    await cache.GetAsync("warm", _ => ValueTask.FromResult("value"), TimeSpan.FromMinutes(10));
                }

                counts[i] += 64;
            }
        })));
        var took = clock.Elapsed;
        var after = await CommandsAsync(server);
        var requests = counts.Sum();

        // The two INFO calls themselves are commands too.
        return new WarmKeyResult(cache.Name, requests / took.TotalSeconds, Math.Max(0, after - before - 2) / (double)requests);
    }

    private static async Task<long> CommandsAsync(IServer server)
    {
        var info = await server.InfoAsync("stats");
        var value = info.SelectMany(g => g).First(p => p.Key == "total_commands_processed").Value;
        return long.Parse(value);
    }
}

internal sealed record WarmKeyResult(string Contender, double HitsPerSecond, double RedisCommandsPerRequest);
