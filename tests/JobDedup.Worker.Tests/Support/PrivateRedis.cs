using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace JobDedup.Worker.Tests.Support;

/// <summary>
/// A throwaway redis-server of this test's own, on a free port, keeping nothing on disk: a test may stop it (by its
/// pid) to take the store away, which the shared server must never be.
/// </summary>
public sealed class PrivateRedis : IAsyncDisposable
{
    private readonly Process _process;

    private PrivateRedis(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000";

    public static async Task<PrivateRedis> StartAsync()
    {
        var server = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
        Assert.True(server is not null, "redis-server is not installed; scripts/redis.sh start installs Debian's redis-server.");
        var port = Ports.Free();
        var process = Process.Start(new ProcessStartInfo(server!, ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new PrivateRedis(process, port);
        await Watchdog.Until(async () => await AcceptsAsync(port), $"the private redis-server answering on port {port}");
        return redis;
    }

    /// <summary>Stops the server, as an outage would.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().Within();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
