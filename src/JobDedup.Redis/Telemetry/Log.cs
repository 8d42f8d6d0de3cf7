using Microsoft.Extensions.Logging;

namespace JobDedup.Redis.Telemetry;

/// <summary>Log events of the Redis cache and store. Event ids are stable; keys may appear, values never do.</summary>
internal static partial class Log
{
    [LoggerMessage(4001, LogLevel.Warning, "Cache {Cache}: Redis at {Server} is unavailable; factories are called directly until it answers again.")]
    public static partial void RedisUnavailable(ILogger logger, string cache, string server, Exception? exception);

    [LoggerMessage(4002, LogLevel.Information, "Cache {Cache}: Redis at {Server} answers again; values are cached there once more.")]
    public static partial void RedisAvailable(ILogger logger, string cache, string server);

    [LoggerMessage(4003, LogLevel.Warning, "Cache {Cache}: the background rebuild of key {Key} failed; the current value stays until its expiry.")]
    public static partial void BackgroundRebuildFailed(ILogger logger, string cache, string key, Exception exception);

    [LoggerMessage(4004, LogLevel.Warning, "Cache {Cache}: the factory of key {Key} failed; a stale value (fail-safe) was served.")]
    public static partial void StaleServedAfterFailure(ILogger logger, string cache, string key, Exception exception);

    [LoggerMessage(4005, LogLevel.Debug, "Cache {Cache}: the rebuild lock of key {Key} expired before its value was stored; the value was not stored.")]
    public static partial void LateWriteRefused(ILogger logger, string cache, string key);

    [LoggerMessage(4006, LogLevel.Warning, "Cache {Cache}: could not subscribe to {Channel}; other processes' values and invalidations reach this one only through Redis reads.")]
    public static partial void SubscribeFailed(ILogger logger, string cache, string channel, Exception exception);

    [LoggerMessage(4101, LogLevel.Warning, "Redis outcome store {Prefix}: could not subscribe to {Channel}; waiters fall back to polling.")]
    public static partial void StoreSubscribeFailed(ILogger logger, string prefix, string channel, Exception exception);

    [LoggerMessage(4102, LogLevel.Warning, "Redis outcome store {Prefix}: could not refresh this instance's heartbeat; if it stays out of reach for {TimeToLive}, other instances take its claims over.")]
    public static partial void HeartbeatFailed(ILogger logger, string prefix, TimeSpan timeToLive, Exception exception);

    [LoggerMessage(4103, LogLevel.Information, "Redis outcome store {Prefix}: this instance's heartbeat is refreshed again.")]
    public static partial void HeartbeatRestored(ILogger logger, string prefix);
}
