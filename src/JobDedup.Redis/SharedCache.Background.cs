using JobDedup.Redis.Caching;
using JobDedup.Redis.Connection;
using JobDedup.Redis.Telemetry;
using StackExchange.Redis;

namespace JobDedup;

/// <content>Writes and background rebuilds: the fenced store, XFetch early refreshes, and factories finishing past a soft timeout.</content>
public sealed partial class SharedCache
{
    /// <summary>Starts one background refresh of a fresh key per process; callers are served the current value meanwhile.</summary>
    private void StartEarlyRefresh<TState, T>(LoadRequest<TState, T> request)
    {
        if (!_refreshing.TryAdd(request.Key, 0))
        {
            return;
        }

        _metrics.EarlyRefresh();
        _ = Task.Run(() => RefreshAsync(request), CancellationToken.None);
    }

    private async Task RefreshAsync<TState, T>(LoadRequest<TState, T> request)
    {
        var token = NewToken();
        IDatabase? database = null;
        var locked = false;
        try
        {
            database = await _link.GetDatabaseAsync().ConfigureAwait(false);
            if (database is null)
            {
                return;
            }

            // Another process refreshing already holds the lock: nothing to do here.
            locked = await database.StringSetAsync(_keys.Lock(request.Key), token, request.Options.LockTimeout, When.NotExists).ConfigureAwait(false);
            if (!locked)
            {
                return;
            }

            var started = _timeProvider.GetTimestamp();
            _metrics.FactoryRun();
            var value = await request.Invoke(_disposing.Token).ConfigureAwait(false);
            await StoreAsync(database, request.Key, request.Options, token, value, _timeProvider.GetElapsedTime(started)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (locked && database is not null)
            {
                await ReleaseQuietlyAsync(database, request.Key, token).ConfigureAwait(false);
            }

            if (RedisLink.IsRedisFailure(ex))
            {
                _link.ReportFailure(ex);
            }
            else if (!_disposing.IsCancellationRequested)
            {
                Log.BackgroundRebuildFailed(_logger, Name, request.Key, ex);
            }
        }
        finally
        {
            _refreshing.TryRemove(request.Key, out _);
            Interlocked.Increment(ref _backgroundRebuilds);
        }
    }

    /// <summary>A factory past its soft timeout: its callers got the stale value; store its own when it ends.</summary>
    private async Task FinishInBackgroundAsync<T>(IDatabase database, string key, CacheEntryOptions options, RedisValue token, Task<T> factory, long started)
    {
        try
        {
            var value = await factory.ConfigureAwait(false);
            await StoreAsync(database, key, options, token, value, _timeProvider.GetElapsedTime(started)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await ReleaseQuietlyAsync(database, key, token).ConfigureAwait(false);
            Log.BackgroundRebuildFailed(_logger, Name, key, ex);
        }
        finally
        {
            Interlocked.Increment(ref _backgroundRebuilds);
        }
    }

    /// <summary>Stores a rebuilt value if the lock is still <paramref name="token"/>'s, in one script; a failure of Redis is recorded, not thrown.</summary>
    private async Task<bool> StoreAsync<T>(IDatabase database, string key, CacheEntryOptions options, RedisValue token, T value, TimeSpan delta)
    {
        var expiresAt = _timeProvider.GetUtcNow() + options.TimeToLive;
        var entry = CacheEntry.Encode(expiresAt, delta, _serializer.Serialize(value));
        var keep = (long)Math.Ceiling((options.TimeToLive + options.FailSafeMaxStaleAge).TotalMilliseconds);
        try
        {
            var stored = (long)await database.ScriptEvaluateAsync(
                    CacheScripts.FencedWrite,
                    [_keys.Value(key), _keys.Lock(key)],
                    [token, entry, keep, _keys.Channel.ToString(), Message('s', key)])
                .ConfigureAwait(false);
            if (stored == 1)
            {
                _memory.Set(key, value, expiresAt, delta);
                return true;
            }

            Log.LateWriteRefused(_logger, Name, key);
            return false;
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            _link.ReportFailure(ex);
            return false;
        }
    }

    private async Task ReleaseQuietlyAsync(IDatabase database, string key, RedisValue token)
    {
        try
        {
            await database.ScriptEvaluateAsync(CacheScripts.Release, [_keys.Lock(key)], [token]).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            // The lock expires by itself.
            _link.ReportFailure(ex);
        }
    }
}
