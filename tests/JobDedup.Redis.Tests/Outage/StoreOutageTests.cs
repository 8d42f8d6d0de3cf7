using System.Net;
using JobDedup.Redis.Tests.Support;
using JobDedup.Testing.Contracts;
using StackExchange.Redis;

namespace JobDedup.Redis.Tests.Outage;

/// <summary>The real Redis reached through a <see cref="TcpFaultProxy"/> that the test cuts (never the shared server).</summary>
public sealed class StoreOutageTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task EnqueueAsync_RedisCutWhileTheHandlerRuns_DuplicatesHereGetTheOutcomeAndItLandsOnceTheServerIsBack()
    {
        var scope = new StoreScope(redis);
        await using var proxy = StartProxy();
        await using var store = scope.Store(o =>
        {
            o.Configuration = $"{proxy.Host}:{proxy.Port}";
            o.OperationTimeout = TimeSpan.FromSeconds(1);
        });
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            store,
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "charged " + job.Payload;
            },
            o => o.StoreBreakDuration = TimeSpan.FromSeconds(1));

        var call = dedup.EnqueueAsync(new Job("evt_1", "A")).AsTask();
        await gate.Reached.Within();
        proxy.Cut();
        gate.Open();

        var led = await call.Within();
        var duplicate = await dedup.EnqueueAsync(new Job("evt_1", "B")).Within();
        Assert.Equal((JobStatus.Succeeded, JobRole.Leader, "charged A"), (led.Status, led.Role, led.Value));
        Assert.Equal((JobRole.Replayed, "charged A"), (duplicate.Role, duplicate.Value));

        // A second instance on a direct connection does not see it yet: it is not in Redis.
        await using var direct = scope.Store();
        Assert.Null(await direct.TryGetAsync("test", "evt_1", CancellationToken.None));

        proxy.Restore();
        await Watchdog.Until(
            async () => await direct.TryGetAsync("test", "evt_1", CancellationToken.None) is { Value: "charged A" },
            "the completion landed once the server was back");
        await using var other = Dedup.Create(direct, (_, _, _) => ValueTask.FromResult("must not run"));
        var elsewhere = await other.EnqueueAsync(new Job("evt_1", "C")).Within();
        Assert.Equal((JobRole.Replayed, "charged A"), (elsewhere.Role, elsewhere.Value));
        Assert.Equal(1, runs);
    }

    private TcpFaultProxy StartProxy()
    {
        var endpoint = ConfigurationOptions.Parse(redis.Configuration).EndPoints[0];
        return endpoint switch
        {
            DnsEndPoint dns => TcpFaultProxy.Start(dns.Host, dns.Port),
            IPEndPoint ip => TcpFaultProxy.Start(ip.Address.ToString(), ip.Port),
            _ => throw new InvalidOperationException($"Cannot proxy the Redis endpoint {endpoint}."),
        };
    }
}
