using JobDedup.Redis.Caching;
using JobDedup.Redis.Connection;
using JobDedup.Redis.Telemetry;
using StackExchange.Redis;

namespace JobDedup;

/// <content>The leader's load of one key: read Redis, or rebuild under the lock, or wait for another process's rebuild.</content>
public sealed partial class SharedCache
{
    private async Task<CacheResult<T>> LoadAsync<TState, T>(LoadRequest<TState, T> request, CancellationToken cancellationToken)
    {
        _led = true;
        var database = await _link.GetDatabaseAsync().ConfigureAwait(false);
        if (database is null)
        {
            return await DirectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        RedisValue raw;
        try
        {
            raw = await database.StringGetAsync(_keys.Value(request.Key)).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            _link.ReportFailure(ex);
            return await DirectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        _link.ReportSuccess();
        var now = _timeProvider.GetUtcNow();
        var stale = default(Stale<T>);
        if (TryRead<T>(raw, request.Key, out var entry, out var value))
        {
            if (entry.ExpiresAt > now)
            {
                _metrics.Hit();
                _memory.Set(request.Key, value, entry.ExpiresAt, entry.Delta);
                if (EarlyRefresh.ShouldRefresh(now, entry.ExpiresAt, entry.Delta, request.Options.Beta, NextRandom()))
                {
                    StartEarlyRefresh(request);
                }

                return new CacheResult<T>(value, CacheValueSource.Redis);
            }

            if (now - entry.ExpiresAt <= request.Options.FailSafeMaxStaleAge)
            {
                stale = new Stale<T>(true, value);
            }
        }

        _metrics.Miss();
        return await RebuildAsync(database, request, stale, cancellationToken).ConfigureAwait(false);
    }

    private async Task<CacheResult<T>> RebuildAsync<TState, T>(IDatabase database, LoadRequest<TState, T> request, Stale<T> stale, CancellationToken cancellationToken)
    {
        var token = NewToken();
        bool acquired;
        try
        {
            acquired = await database.StringSetAsync(_keys.Lock(request.Key), token, request.Options.LockTimeout, When.NotExists).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            _link.ReportFailure(ex);
            return await DirectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (acquired)
        {
            return await ComputeAndStoreAsync(database, request, token, stale, cancellationToken).ConfigureAwait(false);
        }

        return await WaitForPeerAsync(database, request, stale, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Another process rebuilds: wait for its value (woken by pub/sub), at most <see cref="CacheEntryOptions.WaitForLock"/>.</summary>
    private async Task<CacheResult<T>> WaitForPeerAsync<TState, T>(IDatabase database, LoadRequest<TState, T> request, Stale<T> stale, CancellationToken cancellationToken)
    {
        _metrics.LockWait();
        var started = _timeProvider.GetTimestamp();
        try
        {
            while (true)
            {
                using var waiting = _waiters.Register(request.Key);

                // Read after registering: a value that landed in between is found here, one announced later wakes the wait.
                var found = await TryReadFreshAsync<T>(database, request.Key).ConfigureAwait(false);
                if (found.HasValue)
                {
                    _metrics.StampedePrevented();
                    return new CacheResult<T>(found.Value, CacheValueSource.Peer);
                }

                var left = request.Options.WaitForLock - _timeProvider.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                try
                {
                    await waiting.Arrived.WaitAsync(left, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // One last read below the loop's top, then compute.
                    found = await TryReadFreshAsync<T>(database, request.Key).ConfigureAwait(false);
                    if (found.HasValue)
                    {
                        _metrics.StampedePrevented();
                        return new CacheResult<T>(found.Value, CacheValueSource.Peer);
                    }

                    break;
                }
            }

            // The rebuilder is slow or gone: take the lock if it was freed, else compute without storing.
            var token = NewToken();
            if (await database.StringSetAsync(_keys.Lock(request.Key), token, request.Options.LockTimeout, When.NotExists).ConfigureAwait(false))
            {
                return await ComputeAndStoreAsync(database, request, token, stale, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (RedisLink.IsRedisFailure(ex))
        {
            _link.ReportFailure(ex);
            return await DirectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        _metrics.FactoryRun();
        var value = await request.Invoke(cancellationToken).ConfigureAwait(false);
        return new CacheResult<T>(value, CacheValueSource.ComputedAfterWait);
    }

    /// <summary>This process holds the rebuild lock: run the factory and store its value, or serve the stale one (fail-safe).</summary>
    private async Task<CacheResult<T>> ComputeAndStoreAsync<TState, T>(IDatabase database, LoadRequest<TState, T> request, RedisValue token, Stale<T> stale, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        _metrics.FactoryRun();
        var factory = request.Invoke(cancellationToken);
        if (stale.HasValue && request.Options.SoftTimeout != Timeout.InfiniteTimeSpan && !factory.IsCompleted)
        {
            try
            {
                await factory.WaitAsync(request.Options.SoftTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!factory.IsCompleted)
            {
                _ = FinishInBackgroundAsync(database, request.Key, request.Options, token, factory, started);
                _metrics.Stale();
                return new CacheResult<T>(stale.Value, CacheValueSource.StaleAfterTimeout);
            }
            catch (Exception) when (factory.IsCompleted)
            {
                // The factory's own failure: handled below.
            }
            catch
            {
                // Every caller left while the factory ran: free the lock for the next rebuild.
                await ReleaseQuietlyAsync(database, request.Key, token).ConfigureAwait(false);
                throw;
            }
        }

        T value;
        try
        {
            value = await factory.ConfigureAwait(false);
        }
        catch (Exception ex) when (stale.HasValue && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            await ReleaseQuietlyAsync(database, request.Key, token).ConfigureAwait(false);
            Log.StaleServedAfterFailure(_logger, Name, request.Key, ex);
            _metrics.Stale();
            return new CacheResult<T>(stale.Value, CacheValueSource.StaleAfterFailure);
        }
        catch
        {
            await ReleaseQuietlyAsync(database, request.Key, token).ConfigureAwait(false);
            throw;
        }

        await StoreAsync(database, request.Key, request.Options, token, value, _timeProvider.GetElapsedTime(started)).ConfigureAwait(false);
        return new CacheResult<T>(value, CacheValueSource.Computed);
    }

    /// <summary>Redis is unavailable: the factory runs directly, still coalesced within the process.</summary>
    private async Task<CacheResult<T>> DirectAsync<TState, T>(LoadRequest<TState, T> request, CancellationToken cancellationToken)
    {
        _metrics.FactoryRun();
        var value = await request.Invoke(cancellationToken).ConfigureAwait(false);
        return new CacheResult<T>(value, CacheValueSource.Direct);
    }

    private async Task<Stale<T>> TryReadFreshAsync<T>(IDatabase database, string key)
    {
        var raw = await database.StringGetAsync(_keys.Value(key)).ConfigureAwait(false);
        return TryRead<T>(raw, key, out var entry, out var value) && entry.ExpiresAt > _timeProvider.GetUtcNow()
            ? new Stale<T>(true, value)
            : default;
    }

    /// <summary>Reads an entry; a value that no longer reads as <typeparamref name="T"/> fails loudly, naming the key but not the value.</summary>
    private bool TryRead<T>(RedisValue raw, string key, out CacheEntry entry, out T value)
    {
        if (raw.IsNull || !CacheEntry.TryDecode((ReadOnlyMemory<byte>)raw, out entry))
        {
            entry = default;
            value = default!;
            return false;
        }

        try
        {
            value = _serializer.Deserialize<T>(entry.Payload.Span);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"The value cached for key '{key}' in namespace '{Namespace}' cannot be read as {typeof(T).Name} ({ex.GetType().Name}); " +
                "invalidate the key, or keep the serializer compatible with what is stored.",
                ex);
        }
    }

    private static RedisValue NewToken() => Guid.NewGuid().ToString("N");

    /// <summary>A value at hand, or none (the default).</summary>
    private readonly record struct Stale<T>(bool HasValue, T Value);
}
