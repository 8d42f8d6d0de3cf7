using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace JobDedup.Redis.Tests.Support;

/// <summary>
/// A Redis server that one test starts on a free port of 127.0.0.1, stops and starts again: never the shared one.
/// Needs Debian's redis-server (scripts/redis.sh start installs it).
/// </summary>
public sealed class OwnRedis : IAsyncDisposable
{
    private ChildProcess? _server;

    private OwnRedis(int port) => Port = port;

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<OwnRedis> StartAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var redis = new OwnRedis(port);
        await redis.StartAgainAsync();
        return redis;
    }

    public async Task StartAgainAsync()
    {
        Assert.True(File.Exists("/usr/bin/redis-server") || File.Exists("/usr/local/bin/redis-server"),
            "redis-server is not installed; install it with: scripts/redis.sh start");
        _server = ChildProcess.Start("redis-server", ["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no"]);
        await Watchdog.Until(async () =>
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { Configuration }, ConnectTimeout = 500, AbortOnConnectFail = true });
                await probe.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, $"the test's own Redis answers on {Configuration}");
    }

    /// <summary>Kills the server at once, as an outage would.</summary>
    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.KillAsync();
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
