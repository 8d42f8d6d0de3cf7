using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using JobDedup.Redis.Caching;
using JobDedup.Redis.Connection;
using JobDedup.Redis.Serialization;
using JobDedup.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace JobDedup;

/// <summary>
/// Stampede-free cache-aside on Redis, across processes: the cache beside <see cref="SharedCall{TKey, TResult}"/>.
/// <see cref="GetOrSetAsync{TState, T}"/> returns the cached value, or builds it with the factory at most once per
/// refresh however many callers and processes ask at once.
/// </summary>
/// <remarks>
/// <para>Within a process, concurrent callers of a key share one Redis read and, on a miss, one rebuild
/// (through <see cref="SharedCall{TKey, TResult}"/>). Across processes, a true miss takes a short Redis rebuild lock
/// (<c>SET NX PX</c> with a random token); the others wait, woken by pub/sub when the value lands, and after
/// <see cref="CacheEntryOptions.WaitForLock"/> run the factory themselves. The value write is fenced by the lock's
/// token in one Lua script, so a rebuilder whose lock expired cannot overwrite a newer value.</para>
/// <para>Before expiry, reads refresh probabilistically in the background (XFetch), so under steady load no caller
/// waits for a recompute. With fail-safe on, a failing or slow factory is answered with the stale value. When Redis
/// cannot be reached, factories are called directly (still coalesced in the process).</para>
/// </remarks>
public sealed partial class SharedCache : IAsyncDisposable
{
    [ThreadStatic]
    private static bool _led;

    private readonly SharedCacheOptions _options;
    private readonly CacheKeys _keys;
    private readonly RedisLink _link;
    private readonly ICacheSerializer _serializer;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CacheMetrics _metrics;
    private readonly MemoryLevel _memory;
    private readonly ValueWaiters _waiters = new();
    private readonly ConcurrentDictionary<Type, object> _calls = new();
    private readonly ConcurrentDictionary<string, byte> _refreshing = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<CacheEntryOptions, object> _validated = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private long _backgroundRebuilds;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="SharedCache"/> class. Nothing connects until first use.</summary>
    /// <param name="options">Settings, copied here; <see cref="SharedCacheOptions.Configuration"/> or <see cref="SharedCacheOptions.Connection"/> is required.</param>
    /// <param name="loggerFactory">Where log events go; nowhere when omitted.</param>
    /// <param name="timeProvider">The clock of expiry, early refresh, waits and soft timeouts; the system clock when omitted.</param>
    /// <param name="name">The cache's name in logs, metrics and health checks; <c>default</c> when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public SharedCache(SharedCacheOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        _options = options.Clone();
        Name = string.IsNullOrEmpty(name) ? "default" : name;
        _keys = new CacheKeys(_options.Namespace);
        _serializer = _options.Serializer ?? new JsonCacheSerializer(_options.SerializerOptions);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("JobDedup.SharedCache");
        _metrics = new CacheMetrics(Name);
        _memory = new MemoryLevel(_options.MemoryLevelDuration, _options.MemoryLevelMaxEntries, _timeProvider);
        _link = new RedisLink(_options, Name, _keys.Channel, OnMessage, _logger, _timeProvider);
        _link.Restored += _waiters.WakeAll;
    }

    /// <summary>Gets the cache's name.</summary>
    public string Name { get; }

    /// <summary>Gets the cache's namespace: the prefix of its Redis keys.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>Gets a value indicating whether Redis is in use: false while it is unavailable and factories are called directly.</summary>
    public bool IsRedisAvailable => _link.State != LinkState.Down;

    /// <summary>Gets the server(s) the cache uses, as <c>host:port</c> (never credentials).</summary>
    public string Server => _link.Server;

    /// <summary>Gets or sets the source of XFetch's random draws (for tests); <see cref="Random.Shared"/> when null.</summary>
    internal Func<double>? RandomSource { get; set; }

    /// <summary>Gets how many background rebuilds (early refreshes and rebuilds past a soft timeout) have ended (for tests).</summary>
    internal long BackgroundRebuilds => Interlocked.Read(ref _backgroundRebuilds);

    /// <summary>Gets the callers of this process waiting on other processes' rebuilds, by key (for tests).</summary>
    internal ValueWaiters Waiters => _waiters;

    /// <summary>Returns the value cached for <paramref name="key"/>, or builds it with <paramref name="factory"/> and caches it.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">The key, within the cache's namespace.</param>
    /// <param name="state">Passed to <paramref name="factory"/>; passing state instead of capturing it keeps the call free of closures.</param>
    /// <param name="factory">Builds the value; its token fires when every caller waiting for it has left.</param>
    /// <param name="options">How the key is cached; <see cref="SharedCacheOptions.DefaultEntryOptions"/> when omitted.</param>
    /// <param name="cancellationToken">Detaches this caller only.</param>
    /// <returns>The value and where it came from.</returns>
    /// <exception cref="ArgumentException">The key is empty, or the options are invalid.</exception>
    public ValueTask<CacheResult<T>> GetOrSetAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(factory);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        options = Checked(options);
        if (_memory.TryGet<T>(key, out var copy, out var expiresAt, out var delta))
        {
            _metrics.Hit();
            if (EarlyRefresh.ShouldRefresh(_timeProvider.GetUtcNow(), expiresAt, delta, options.Beta, NextRandom()))
            {
                StartEarlyRefresh(new LoadRequest<TState, T>(this, key, state, factory, options));
            }

            return new ValueTask<CacheResult<T>>(new CacheResult<T>(copy, CacheValueSource.Memory));
        }

        return new ValueTask<CacheResult<T>>(RunAsync(new LoadRequest<TState, T>(this, key, state, factory, options), cancellationToken));
    }

    /// <summary>Returns the value cached for <paramref name="key"/>, or builds it with <paramref name="factory"/> and caches it.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">The key, within the cache's namespace.</param>
    /// <param name="factory">Builds the value; its token fires when every caller waiting for it has left.</param>
    /// <param name="options">How the key is cached; <see cref="SharedCacheOptions.DefaultEntryOptions"/> when omitted.</param>
    /// <param name="cancellationToken">Detaches this caller only.</param>
    /// <returns>The value and where it came from.</returns>
    public ValueTask<CacheResult<T>> GetOrSetAsync<T>(
        string key,
        Func<CancellationToken, ValueTask<T>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return GetOrSetAsync(key, factory, static (f, token) => f(token), options, cancellationToken);
    }

    /// <summary>Returns the value cached for <paramref name="key"/>, or builds it with the synchronous <paramref name="factory"/> and caches it.</summary>
    /// <typeparam name="T">The value type.</typeparam>
    /// <param name="key">The key, within the cache's namespace.</param>
    /// <param name="factory">Builds the value, on the thread of the caller that leads the rebuild.</param>
    /// <param name="options">How the key is cached; <see cref="SharedCacheOptions.DefaultEntryOptions"/> when omitted.</param>
    /// <param name="cancellationToken">Detaches this caller only.</param>
    /// <returns>The value and where it came from.</returns>
    public ValueTask<CacheResult<T>> GetOrSetAsync<T>(
        string key,
        Func<T> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return GetOrSetAsync(key, factory, static (f, _) => new ValueTask<T>(f()), options, cancellationToken);
    }

    /// <summary>
    /// Removes the entry from Redis (and its rebuild lock, so a rebuild under way cannot store its outdated value) and
    /// tells every process of the namespace to drop its in-memory copy.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Stops waiting for Redis.</param>
    /// <returns>A task that completes when Redis has removed the entry.</returns>
    /// <exception cref="InvalidOperationException">Redis cannot be reached: the entry may still be there.</exception>
    public async ValueTask InvalidateAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _memory.Drop(key);
        var database = await _link.GetDatabaseAsync().ConfigureAwait(false)
            ?? throw Unavailable(key, null);
        try
        {
            await database.ScriptEvaluateAsync(
                    CacheScripts.Invalidate,
                    [_keys.Value(key), _keys.Lock(key)],
                    [_keys.Channel.ToString(), Message('i', key)])
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false);
            _link.ReportSuccess();
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            _link.ReportFailure(ex);
            throw Unavailable(key, ex);
        }
    }

    /// <summary>Returns the cache's counters since it was built.</summary>
    /// <returns>A snapshot.</returns>
    public SharedCacheStats GetStats() => _metrics.Snapshot();

    /// <summary>Stops background rebuilds and closes the connection the cache made (not one it was given).</summary>
    /// <returns>A task that completes when the cache is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        _link.Restored -= _waiters.WakeAll;
        await _link.DisposeAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }

    private InvalidOperationException Unavailable(string key, Exception? inner) =>
        new($"Cache '{Name}' could not invalidate key '{key}': Redis at {Server} is unavailable.", inner);

    private CacheEntryOptions Checked(CacheEntryOptions? options)
    {
        if (options is null)
        {
            return _options.DefaultEntryOptions;
        }

        if (!_validated.TryGetValue(options, out _))
        {
            options.EnsureValid();
            _validated.AddOrUpdate(options, options);
        }

        return options;
    }

    private async Task<CacheResult<T>> RunAsync<TState, T>(LoadRequest<TState, T> request, CancellationToken cancellationToken)
    {
        var call = (SharedCall<string, CacheResult<T>>)_calls.GetOrAdd(
            typeof(T),
            static (_, name) => new SharedCall<string, CacheResult<T>>(new SharedCallOptions { Name = $"cache:{name}" }),
            Name);

        // A leader runs the load on this thread until its first await, so the flag tells this caller whether it led.
        _led = false;
        var shared = call.RunAsync(request.Key, request, static (r, token) => r.Cache.LoadAsync(r, token), cancellationToken);
        var led = _led;
        _led = false;
        var result = await shared.ConfigureAwait(false);
        if (!led)
        {
            if (result.Source is CacheValueSource.Redis or CacheValueSource.Memory)
            {
                _metrics.Hit();
            }
            else if (!result.IsStale)
            {
                _metrics.StampedePrevented();
            }
            else
            {
                _metrics.Stale();
            }
        }

        return result;
    }

    private double NextRandom() => RandomSource?.Invoke() ?? Random.Shared.NextDouble();

    private string Message(char kind, string key) => string.Concat(new ReadOnlySpan<char>(in kind), _origin, key);

    /// <summary>An announcement on the cache's channel: a value stored (<c>s</c>) or a key invalidated (<c>i</c>), by which cache, for which key.</summary>
    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        var text = (string?)message;
        if (text is null || text.Length <= 1 + _origin.Length)
        {
            return;
        }

        var fromHere = text.AsSpan(1, _origin.Length).SequenceEqual(_origin);
        var key = text[(1 + _origin.Length)..];
        if (text[0] == 'i' || !fromHere)
        {
            _memory.Drop(key);
        }

        _waiters.Wake(key);
    }
}
