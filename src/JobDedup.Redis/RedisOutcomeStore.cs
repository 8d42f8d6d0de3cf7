using System.Globalization;
using JobDedup.Redis.Caching;
using JobDedup.Redis.Connection;
using JobDedup.Redis.Serialization;
using JobDedup.Redis.Store;
using JobDedup.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace JobDedup;

/// <summary>
/// A claiming outcome store on Redis: the dedupe window is shared by every instance on the server, and a key is claimed
/// before its handler runs, so only one instance at a time runs it. Claims hold for a lease that the running instance
/// renews, and record the instance's heartbeat key (a short time to live, refreshed while it runs); once the lease
/// lapses, or the heartbeat has expired because its process died, another instance takes the key over with a larger
/// fencing token (a counter per scope that only grows), which makes the first one's late writes fail. Every step is one Lua script on the server's clock.
/// Waiters on another instance's claim are woken by pub/sub, with polling as a fallback. Records expire by themselves.
/// </summary>
/// <typeparam name="TResult">The handler's result type; serialized with System.Text.Json unless another serializer is set.</typeparam>
/// <remarks>
/// Scopes and keys of any length and characters are accepted (long ones are kept as their SHA-256). The scripts build
/// record keys themselves, so the store needs a single Redis (or a primary with replicas), not Redis Cluster.
/// Outcomes are never logged. Redis should keep its data (<c>appendonly yes</c>) when the window must outlive a restart.
/// </remarks>
public sealed partial class RedisOutcomeStore<TResult> : IClaimingOutcomeStore<TResult>, IAsyncDisposable
{
    private readonly RedisOutcomeStoreOptions _options;
    private readonly StoreKeys _keys;
    private readonly ICacheSerializer _serializer;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ValueWaiters _waiters = new();
    private readonly InstanceHeartbeat? _heartbeat;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _connectLock = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="RedisOutcomeStore{TResult}"/> class. Nothing connects until first use.</summary>
    /// <param name="options">Settings, copied here; <see cref="RedisOutcomeStoreOptions.Configuration"/> or <see cref="RedisOutcomeStoreOptions.Connection"/> is required.</param>
    /// <param name="loggerFactory">Where log events go; nowhere when omitted.</param>
    /// <param name="timeProvider">The clock for polling; the system clock when omitted. Leases and expiry always use the server's clock.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public RedisOutcomeStore(RedisOutcomeStoreOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        _options = options.Clone();
        _keys = new StoreKeys(_options.Prefix);
        _serializer = _options.Serializer ?? new JsonCacheSerializer(_options.SerializerOptions);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobDedup.RedisOutcomeStore");
        _timeProvider = timeProvider ?? TimeProvider.System;
        Server = RedisConfiguration.Describe(_options.Connection, _options.Configuration);
        if (_options.OwnerHeartbeat > TimeSpan.Zero)
        {
            _heartbeat = new InstanceHeartbeat(_keys, _options.Prefix, _options.OwnerHeartbeat, _logger, _timeProvider);
        }
    }

    /// <summary>Gets the prefix of the store's Redis keys.</summary>
    public string Prefix => _options.Prefix;

    /// <summary>Gets the server(s) the store uses, as <c>host:port</c> (never credentials).</summary>
    public string Server { get; }

    /// <summary>Connects and subscribes now rather than on first use, so that a server that cannot be reached fails the start.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the store is connected.</returns>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection the store made (not one it was given). Waiting callers get an <see cref="ObjectDisposedException"/>.</summary>
    /// <returns>A task that completes when the store is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        Task<IConnectionMultiplexer>? connecting;
        lock (_connectLock)
        {
            connecting = _connecting;
        }

        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        if (connecting is { IsCompletedSuccessfully: true })
        {
            var connection = connecting.Result;
            if (_options.Connection is null)
            {
                await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                connection.Dispose();
            }
            else
            {
                await connection.GetSubscriber().UnsubscribeAsync(_keys.Channel, OnMessage).ConfigureAwait(false);
            }
        }

        _disposing.Dispose();
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Task<IConnectionMultiplexer> connecting;
        lock (_connectLock)
        {
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectCoreAsync();
            }

            connecting = _connecting;
        }

        var connection = connecting.IsCompletedSuccessfully ? connecting.Result : await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        return connection.GetDatabase();
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
            await connection.GetSubscriber().SubscribeAsync(_keys.Channel, OnMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.StoreSubscribeFailed(_logger, Prefix, _keys.ChannelName, ex);
        }

        connection.ConnectionRestored += (_, _) => _waiters.WakeAll();
        _heartbeat?.Start(connection.GetDatabase());
        return connection;
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        var text = (string?)message;
        if (text is null)
        {
            return;
        }

        if (text.EndsWith("\n*", StringComparison.Ordinal))
        {
            _waiters.WakeAll();
        }
        else
        {
            _waiters.Wake(text);
        }
    }

    private static long Milliseconds(TimeSpan value) =>
        (long)Math.Clamp(Math.Ceiling(value.TotalMilliseconds), 1, TimeSpan.FromDays(365 * 100).TotalMilliseconds);

    private static string Ticks(DateTimeOffset value) => value.UtcTicks.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Optional text as the scripts take it: <c>''</c> for none, <c>'='</c> followed by the text otherwise (so that an
    /// empty text is kept as one).
    /// </summary>
    private static string Optional(string? text) => text is null ? string.Empty : "=" + text;

    /// <summary>The outcome's fields as the Complete and Save scripts take them, after their other arguments: val first, then fp, ft, fm.</summary>
    private (RedisValue Value, string Fingerprint, string FailureType, string FailureMessage) OutcomeFields(in StoredOutcome<TResult> outcome)
    {
        // A kept failure has no value, only what it failed with.
        var failure = outcome.Failure;
        return failure is null
            ? (_serializer.Serialize(outcome.Value), Optional(outcome.Fingerprint), string.Empty, string.Empty)
            : (RedisValue.EmptyString, Optional(outcome.Fingerprint), Optional(failure.ExceptionType ?? string.Empty), Optional(failure.Message ?? string.Empty));
    }

    /// <summary>
    /// Reads val, att, at, fp, ft, fm from a script's reply, starting at <paramref name="first"/>. A record written
    /// before fingerprints and kept failures has neither.
    /// </summary>
    private StoredOutcome<TResult> ReadOutcome(RedisResult[] reply, int first, string scope, string key)
    {
        var attempts = (int)reply[first + 1];
        var completedAt = reply[first + 2].IsNull
            ? DateTimeOffset.MinValue
            : new DateTimeOffset(long.Parse((string)reply[first + 2]!, CultureInfo.InvariantCulture), TimeSpan.Zero);
        var fingerprint = (string?)reply[first + 3];
        if ((string?)reply[first + 4] is { } failureType)
        {
            var failure = new StoredFailure(failureType, (string?)reply[first + 5] ?? string.Empty);
            return new StoredOutcome<TResult>(default!, attempts, completedAt) { Fingerprint = fingerprint, Failure = failure };
        }

        TResult value;
        try
        {
            value = _serializer.Deserialize<TResult>((byte[])reply[first]!);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"The outcome kept for key '{key}' of scope '{scope}' under prefix '{Prefix}' cannot be read as {typeof(TResult).Name} " +
                $"({ex.GetType().Name}); remove the key, or keep the serializer compatible with what is stored.",
                ex);
        }

        return new StoredOutcome<TResult>(value, attempts, completedAt) { Fingerprint = fingerprint };
    }

    /// <summary>Runs one of the store's scripts against a scope.</summary>
    private async Task<RedisResult> RunAsync(string script, string scopePart, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        return await database.ScriptEvaluateAsync(script, [_keys.Meta(scopePart)], arguments).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the Redis key of this instance's heartbeat, or an empty string when it has none.</summary>
    internal string HeartbeatKey => _heartbeat?.Key ?? string.Empty;

    /// <summary>Gets the Redis key of a record now (for tests that move leases and expiries).</summary>
    internal async Task<string> RecordKeyAsync(string scope, string key)
    {
        var scopePart = StoreKeys.Part(scope);
        return (string)(await RunAsync(StoreScripts.RecordKey, scopePart, [_keys.RecordPrefix(scopePart), StoreKeys.Part(key)], default).ConfigureAwait(false))!;
    }
}
