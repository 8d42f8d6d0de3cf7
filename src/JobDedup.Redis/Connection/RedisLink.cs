using System.Diagnostics;
using JobDedup.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace JobDedup.Redis.Connection;

/// <summary>
/// The cache's connection to Redis and whether Redis is usable now. A failed command turns the link
/// <see cref="LinkState.Down"/>: for <see cref="SharedCacheOptions.RetryUnavailableAfter"/> no command is tried (callers
/// get no database and call their factory directly), then commands are tried again and the first success turns it
/// <see cref="LinkState.Up"/>. Each change of state is logged once.
/// </summary>
internal sealed class RedisLink : IAsyncDisposable
{
    private readonly SharedCacheOptions _options;
    private readonly string _cacheName;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Action<RedisChannel, RedisValue> _onMessage;
    private readonly RedisChannel _channel;
    private readonly Lock _stateLock = new();
    private LinkState _state;
    private DateTimeOffset _retryAt;
    private Task<IConnectionMultiplexer>? _connecting;
    private IConnectionMultiplexer? _connection;

    public RedisLink(
        SharedCacheOptions options,
        string cacheName,
        RedisChannel channel,
        Action<RedisChannel, RedisValue> onMessage,
        ILogger logger,
        TimeProvider timeProvider)
    {
        _options = options;
        _cacheName = cacheName;
        _channel = channel;
        _onMessage = onMessage;
        _logger = logger;
        _timeProvider = timeProvider;
        Server = RedisConfiguration.Describe(options.Connection, options.Configuration);
    }

    /// <summary>Gets the server(s) of the link, for messages (never credentials).</summary>
    public string Server { get; }

    public LinkState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>Raised (outside any lock) when the link comes back up: announcements may have been missed meanwhile.</summary>
    public event Action? Restored;

    /// <summary>Returns the database when Redis should be tried now, or <see langword="null"/> when callers should call their factory directly.</summary>
    public async ValueTask<IDatabase?> GetDatabaseAsync()
    {
        LinkState state;
        lock (_stateLock)
        {
            state = _state;
            if (state == LinkState.Down && _timeProvider.GetUtcNow() < _retryAt)
            {
                return null;
            }
        }

        ObjectDisposedException.ThrowIf(state == LinkState.Disposed, this);
        var connection = Volatile.Read(ref _connection) ?? await ConnectAsync().ConfigureAwait(false);
        if (connection is null)
        {
            return null;
        }

        if (!connection.IsConnected)
        {
            // The client reconnects in the background; until then nothing would answer.
            ReportFailure(null);
            return null;
        }

        return connection.GetDatabase();
    }

    /// <summary>Records that a command succeeded: a link that was down is up again.</summary>
    public void ReportSuccess()
    {
        bool restored;
        lock (_stateLock)
        {
            restored = _state == LinkState.Down;
            if (_state is LinkState.Down or LinkState.NotConnected)
            {
                _state = LinkState.Up;
            }

            AssertInvariants();
        }

        if (restored)
        {
            Log.RedisAvailable(_logger, _cacheName, Server);
            Restored?.Invoke();
        }
    }

    /// <summary>Records that Redis failed: the link goes down (logged on the change only) until the retry time.</summary>
    public void ReportFailure(Exception? exception)
    {
        bool changed;
        lock (_stateLock)
        {
            if (_state == LinkState.Disposed)
            {
                return;
            }

            changed = _state != LinkState.Down;
            _state = LinkState.Down;
            _retryAt = _timeProvider.GetUtcNow() + _options.RetryUnavailableAfter;
            AssertInvariants();
        }

        if (changed)
        {
            Log.RedisUnavailable(_logger, _cacheName, Server, exception);
        }
    }

    /// <summary>Whether an exception says Redis could not be used (rather than a bug or a cancellation).</summary>
    public static bool IsRedisFailure(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException or RedisServerException or TimeoutException or ObjectDisposedException;

    public async ValueTask DisposeAsync()
    {
        Task<IConnectionMultiplexer>? connecting;
        lock (_stateLock)
        {
            if (_state == LinkState.Disposed)
            {
                return;
            }

            _state = LinkState.Disposed;
            connecting = _connecting;
        }

        if (_options.Connection is not null || connecting is null)
        {
            if (_options.Connection is { } given)
            {
                await given.GetSubscriber().UnsubscribeAsync(_channel, _onMessage).ConfigureAwait(false);
            }

            return;
        }

        try
        {
            var connection = await connecting.ConfigureAwait(false);
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            connection.Dispose();
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // Never connected: nothing to close.
        }
    }

    private async Task<IConnectionMultiplexer?> ConnectAsync()
    {
        Task<IConnectionMultiplexer> connecting;
        lock (_stateLock)
        {
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectCoreAsync();
            }

            connecting = _connecting;
        }

        try
        {
            var connection = await connecting.ConfigureAwait(false);
            Volatile.Write(ref _connection, connection);
            return connection;
        }
        catch (Exception ex) when (IsRedisFailure(ex) || ex is RedisException)
        {
            ReportFailure(ex);
            return null;
        }
    }

    private async Task<IConnectionMultiplexer> ConnectCoreAsync()
    {
        IConnectionMultiplexer connection;
        if (_options.Connection is { } given)
        {
            connection = given;
        }
        else
        {
            connection = await RedisConfiguration.ConnectAsync(_options.Configuration, _options.OperationTimeout).ConfigureAwait(false);
        }

        try
        {
            await connection.GetSubscriber().SubscribeAsync(_channel, _onMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex) || ex is RedisException)
        {
            Log.SubscribeFailed(_logger, _cacheName, _channel.ToString(), ex);
        }

        return connection;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_stateLock.IsHeldByCurrentThread, "The link's state changes under its lock.");
        Debug.Assert(_state != LinkState.Down || _retryAt != default, "A link that is down knows when to try again.");
    }
}
