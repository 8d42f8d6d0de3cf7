using System.Net;
using System.Net.Sockets;

namespace JobDedup.Testing;

/// <summary>
/// A small in-process TCP proxy for fault tests: it listens on 127.0.0.1 on an ephemeral port and forwards every
/// connection to a target host and port. A test points a client (a connection string, a broker endpoint) at
/// <see cref="Port"/> and then cuts the link without touching the shared server behind it.
/// </summary>
/// <remarks>
/// <para><see cref="RefuseNewConnections"/> makes new connections fail at once (accepted, then reset) while the ones
/// already open keep working; <see cref="DropConnections"/> resets every connection open now; <see cref="Cut"/> does
/// both; <see cref="Restore"/> lets new connections through again (dropped ones stay dropped: clients reconnect).</para>
/// <para><see cref="HoldReplies"/> keeps every connection open and forwarding what clients send, but holds back what
/// the server sends until <see cref="ReleaseReplies"/>: a server that acted on a request and whose answer is late.</para>
/// <para>Resets are sent with a zero linger, so the client sees "connection reset" as it would when a server dies,
/// not an orderly end of stream.</para>
/// </remarks>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private const int BufferSize = 16 * 1024;

    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private readonly HashSet<Link> _links = [];
    private readonly Task _acceptLoop;
    private bool _refusing;
    private TaskCompletionSource? _heldReplies;
    private int _accepted;
    private int _refused;

    private TcpFaultProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Gets the host clients connect to: always 127.0.0.1.</summary>
    public string Host { get; } = "127.0.0.1";

    /// <summary>Gets the port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Gets how many connections are forwarded right now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_sync)
            {
                return _links.Count;
            }
        }
    }

    /// <summary>Gets how many connections were forwarded since the start.</summary>
    public int AcceptedConnections => Volatile.Read(ref _accepted);

    /// <summary>Gets how many connections were reset because the proxy was refusing.</summary>
    public int RefusedConnections => Volatile.Read(ref _refused);

    /// <summary>Gets whether new connections are refused.</summary>
    public bool IsRefusing
    {
        get
        {
            lock (_sync)
            {
                return _refusing;
            }
        }
    }

    /// <summary>Starts a proxy to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    /// <param name="targetHost">The server's host.</param>
    /// <param name="targetPort">The server's port.</param>
    /// <returns>The running proxy.</returns>
    public static TcpFaultProxy Start(string targetHost, int targetPort)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetHost);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetPort);
        return new TcpFaultProxy(targetHost, targetPort);
    }

    /// <summary>Makes every new connection fail at once; connections already open keep working.</summary>
    public void RefuseNewConnections()
    {
        lock (_sync)
        {
            _refusing = true;
        }
    }

    /// <summary>Resets every connection open now; new ones are forwarded unless the proxy is refusing.</summary>
    public void DropConnections()
    {
        Link[] links;
        lock (_sync)
        {
            links = [.. _links];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Reset();
        }
    }

    /// <summary>Refuses new connections and resets the open ones: the server looks gone.</summary>
    public void Cut()
    {
        RefuseNewConnections();
        DropConnections();
    }

    /// <summary>Holds back everything the server sends, on every connection, until <see cref="ReleaseReplies"/>; what clients send still reaches it.</summary>
    public void HoldReplies()
    {
        lock (_sync)
        {
            _heldReplies ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Sends on what the server sent while replies were held, and forwards its replies at once again.</summary>
    public void ReleaseReplies()
    {
        TaskCompletionSource? held;
        lock (_sync)
        {
            held = _heldReplies;
            _heldReplies = null;
        }

        held?.TrySetResult();
    }

    /// <summary>Forwards new connections again.</summary>
    public void Restore()
    {
        lock (_sync)
        {
            _refusing = false;
        }
    }

    /// <summary>Stops listening and resets every connection.</summary>
    /// <returns>A task that completes when the proxy has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        ReleaseReplies();
        _listener.Stop();
        DropConnections();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private static void ResetSocket(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (IsRefusing)
            {
                Interlocked.Increment(ref _refused);
                ResetSocket(client);
                continue;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            ResetSocket(client);
            ResetSocket(server);
            return;
        }

        var link = new Link(client, server);
        lock (_sync)
        {
            if (_refusing || _stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _refused);
                link.Reset();
                return;
            }

            _links.Add(link);
        }

        Interlocked.Increment(ref _accepted);
        await Task.WhenAll(PumpAsync(client, server, replies: false), PumpAsync(server, client, replies: true));
        lock (_sync)
        {
            _links.Remove(link);
        }

        link.Reset();
    }

    private async Task PumpAsync(Socket from, Socket to, bool replies)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (replies && Volatile.Read(ref _heldReplies) is { } held)
                {
                    await held.Task;
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side went away (or was reset by the test): end the link both ways.
            ResetSocket(from);
            ResetSocket(to);
        }
    }

    private sealed class Link(Socket client, Socket server)
    {
        private int _reset;

        public void Reset()
        {
            if (Interlocked.Exchange(ref _reset, 1) != 0)
            {
                return;
            }

            ResetSocket(client);
            ResetSocket(server);
        }
    }
}
