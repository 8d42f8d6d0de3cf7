using JobDedup.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace JobDedup.Redis.Store;

/// <summary>
/// The store instance's proof of life: a key with a short time to live, refreshed every third of it while the
/// instance runs (and by each claim and renewal it makes). Claims record the key; once it has expired, because the
/// process died or has been cut off from Redis for a whole time to live, other instances may take its claims over
/// without waiting for their leases. Disposing the store deletes the key.
/// </summary>
internal sealed class InstanceHeartbeat : IAsyncDisposable
{
    private readonly TimeSpan _timeToLive;
    private readonly string _prefix;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private IDatabase? _database;
    private Task? _loop;

    public InstanceHeartbeat(StoreKeys keys, string prefix, TimeSpan timeToLive, ILogger logger, TimeProvider timeProvider)
    {
        Key = keys.Heartbeat(Guid.NewGuid().ToString("N"));
        _prefix = prefix;
        _timeToLive = timeToLive;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets the heartbeat's Redis key, recorded on every claim this instance makes.</summary>
    public string Key { get; }

    /// <summary>Gets the heartbeat's time to live in milliseconds, as the scripts take it.</summary>
    public long TimeToLiveMilliseconds => (long)_timeToLive.TotalMilliseconds;

    /// <summary>Starts refreshing the key, once.</summary>
    public void Start(IDatabase database)
    {
        lock (_sync)
        {
            if (_loop is not null || _stopping.IsCancellationRequested)
            {
                return;
            }

            _database = database;
            _loop = Task.Run(BeatAsync, CancellationToken.None);
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
        IDatabase? database;
        lock (_sync)
        {
            (loop, database) = (_loop, _database);
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        if (database is not null)
        {
            try
            {
                // Claims this instance still holds may be taken over at once: nothing renews them any more.
                await database.KeyDeleteAsync(Key).WaitAsync(TimeSpan.FromSeconds(2), _timeProvider).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                // It expires by itself.
            }
        }

        _stopping.Dispose();
    }

    private async Task BeatAsync()
    {
        var token = _stopping.Token;
        var failing = false;
        using var timer = new PeriodicTimer(_timeToLive / 3, _timeProvider);
        try
        {
            do
            {
                try
                {
                    await _database!.StringSetAsync(Key, "1", _timeToLive).WaitAsync(_timeToLive / 3, _timeProvider, token).ConfigureAwait(false);
                    if (failing)
                    {
                        failing = false;
                        Log.HeartbeatRestored(_logger, _prefix);
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException && !token.IsCancellationRequested)
                {
                    // One line per change of state, not one per beat.
                    if (!failing)
                    {
                        failing = true;
                        Log.HeartbeatFailed(_logger, _prefix, _timeToLive, ex);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false));
        }
        catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or RedisException or TimeoutException)
        {
            // Disposed, possibly while a beat to a server that cannot be reached was failing: nothing to report.
        }
    }
}
