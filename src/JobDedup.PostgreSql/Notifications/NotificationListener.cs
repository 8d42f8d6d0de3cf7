using System.Security.Cryptography;
using System.Text;
using JobDedup.PostgreSql.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace JobDedup.PostgreSql.Notifications;

/// <summary>
/// One dedicated connection per store that LISTENs on the table's channel, started by the first waiter and
/// reconnecting when it drops. A notification wakes the waiters of its key; they read the row again. Waiters also poll,
/// so a missed notification (or a connection that is down) only delays them.
/// </summary>
internal sealed class NotificationListener : IAsyncDisposable
{
    /// <summary>The payload that wakes every waiter (a whole scope was cleared).</summary>
    public const string Everything = "*";

    // NOTIFY payloads must stay under 8,000 bytes; longer scope+key pairs are sent as a hash.
    private const int MaxPlainPayloadBytes = 4_000;
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _listen;
    private readonly string _table;
    private readonly string _channel;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<string, KeyWatch> _watches = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private int _listening;

    public NotificationListener(NpgsqlDataSource dataSource, string listenStatement, string table, string channel, ILogger logger, TimeProvider timeProvider)
    {
        _dataSource = dataSource;
        _listen = listenStatement;
        _table = table;
        _channel = channel;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets a value indicating whether the connection is LISTENing now.</summary>
    public bool IsListening => Volatile.Read(ref _listening) != 0;

    /// <summary>Gets how many waiters are registered (for tests).</summary>
    public int Waiters
    {
        get
        {
            lock (_sync)
            {
                return _watches.Values.Sum(w => w.References);
            }
        }
    }

    /// <summary>The payload that identifies a key: the scope's length, the scope, the key (hashed when long).</summary>
    public static string Payload(string scope, string key)
    {
        var plain = string.Concat(scope.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ":", scope, key);
        return Encoding.UTF8.GetByteCount(plain) <= MaxPlainPayloadBytes
            ? plain
            : "#" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(plain)));
    }

    /// <summary>Registers a waiter for a payload; dispose the registration when done waiting.</summary>
    public Registration Watch(string payload)
    {
        lock (_sync)
        {
            if (!_watches.TryGetValue(payload, out var watch))
            {
                watch = new KeyWatch();
                _watches[payload] = watch;
            }

            watch.References++;
            return new Registration(this, payload, watch);
        }
    }

    /// <summary>
    /// Starts the connection if it is not running, and waits (at most <paramref name="limit"/>) until it has LISTENed
    /// once or failed once: a waiter that reads the row after this misses no completion.
    /// </summary>
    public async Task EnsureStartedAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loop) is null)
        {
            lock (_sync)
            {
                _loop ??= Task.Run(RunAsync, CancellationToken.None);
            }
        }

        if (_firstAttempt.Task.IsCompleted)
        {
            return;
        }

        try
        {
            await _firstAttempt.Task.WaitAsync(limit, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Slow to connect: poll meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_sync)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Volatile.Write(ref _listening, 0);
                _firstAttempt.TrySetResult();
                Log.ListenerFailed(_logger, _table, backoff, ex);

                // Notifications sent while the connection was down are lost: every waiter reads its row again.
                WakeAll();
                try
                {
                    await Task.Delay(backoff, _timeProvider, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            backoff = TimeSpan.FromSeconds(1);
        }

        Volatile.Write(ref _listening, 0);
        _firstAttempt.TrySetResult();
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            connection.Notification += OnNotification;
            try
            {
                var listen = new NpgsqlCommand(_listen, connection);
                await using (listen.ConfigureAwait(false))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Volatile.Write(ref _listening, 1);
                _firstAttempt.TrySetResult();
                Log.Listening(_logger, _table, _channel);

                // Reconnected: whatever was sent while it was down is lost, so every waiter reads its row again.
                WakeAll();
                while (true)
                {
                    if (!await connection.WaitAsync(IdleCheck, cancellationToken).ConfigureAwait(false))
                    {
                        // Quiet for a while: prove the connection is still there, or fail and reconnect.
                        var ping = new NpgsqlCommand("SELECT 1", connection);
                        await using (ping.ConfigureAwait(false))
                        {
                            await ping.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
            finally
            {
                connection.Notification -= OnNotification;
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (!string.Equals(e.Channel, _channel, StringComparison.Ordinal))
        {
            return;
        }

        if (e.Payload == Everything)
        {
            WakeAll();
            return;
        }

        TaskCompletionSource? woken = null;
        lock (_sync)
        {
            if (_watches.TryGetValue(e.Payload, out var watch))
            {
                woken = watch.Renew();
            }
        }

        woken?.TrySetResult();
    }

    private void WakeAll()
    {
        List<TaskCompletionSource> woken;
        lock (_sync)
        {
            woken = new List<TaskCompletionSource>(_watches.Count);
            foreach (var watch in _watches.Values)
            {
                woken.Add(watch.Renew());
            }
        }

        foreach (var signal in woken)
        {
            signal.TrySetResult();
        }
    }

    private void Unwatch(string payload, KeyWatch watch)
    {
        lock (_sync)
        {
            if (--watch.References == 0)
            {
                _watches.Remove(payload);
            }
        }
    }

    /// <summary>The waiters of one key: a signal that is replaced each time it fires.</summary>
    internal sealed class KeyWatch
    {
        public int References { get; set; }

        public TaskCompletionSource Signal { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Swaps in a new signal and returns the old one, to be completed outside the lock.</summary>
        public TaskCompletionSource Renew()
        {
            var fired = Signal;
            Signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return fired;
        }
    }

    /// <summary>A waiter's registration for one key.</summary>
    internal readonly struct Registration : IDisposable
    {
        private readonly NotificationListener _owner;
        private readonly string _payload;
        private readonly KeyWatch _watch;

        public Registration(NotificationListener owner, string payload, KeyWatch watch)
        {
            _owner = owner;
            _payload = payload;
            _watch = watch;
        }

        /// <summary>Gets a task that completes at the key's next notification. Take it before reading the row.</summary>
        public Task Changed
        {
            get
            {
                lock (_owner._sync)
                {
                    return _watch.Signal.Task;
                }
            }
        }

        public void Dispose() => _owner.Unwatch(_payload, _watch);
    }
}
