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
        await using var direct = scope.Store();

        await StoreOutageContract.CutWhileTheHandlerRuns_KeepsTheOutcomeHereAndLandsItOnRestoreAsync(store, proxy, direct);
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
