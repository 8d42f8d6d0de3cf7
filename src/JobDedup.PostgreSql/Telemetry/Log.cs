using Microsoft.Extensions.Logging;

namespace JobDedup.PostgreSql.Telemetry;

/// <summary>Log events of the PostgreSQL outcome store. Event ids are stable; keys may appear, outcomes never do.</summary>
internal static partial class Log
{
    [LoggerMessage(3001, LogLevel.Information, "Outcome table {Table} migrated from schema version {From} to {To}.")]
    public static partial void Migrated(ILogger logger, string table, int from, int to);

    [LoggerMessage(3002, LogLevel.Debug, "Outcome table {Table}: listening for completions on channel {Channel}.")]
    public static partial void Listening(ILogger logger, string table, string channel);

    [LoggerMessage(3003, LogLevel.Warning, "Outcome table {Table}: the notification connection failed; waiters poll meanwhile, reconnecting in {Delay}.")]
    public static partial void ListenerFailed(ILogger logger, string table, TimeSpan delay, Exception exception);

    [LoggerMessage(3004, LogLevel.Debug, "Outcome table {Table}: cleanup deleted {Rows} expired row(s) in {Batches} batch(es).")]
    public static partial void CleanedUp(ILogger logger, string table, long rows, int batches);

    [LoggerMessage(3005, LogLevel.Warning, "Outcome table {Table}: cleanup of expired rows failed; it runs again in {Interval}.")]
    public static partial void CleanupFailed(ILogger logger, string table, TimeSpan interval, Exception exception);

    [LoggerMessage(3006, LogLevel.Debug, "Outcome table {Table}: this store holds instance lock {Instance}; its claims are taken over at once if its session ends.")]
    public static partial void InstanceLockTaken(ILogger logger, string table, int instance);

    [LoggerMessage(3007, LogLevel.Warning, "Outcome table {Table}: the connection holding instance lock {Instance} failed; claims rely on their lease until a new lock is taken, in {Delay}.")]
    public static partial void InstanceLockLost(ILogger logger, string table, int instance, TimeSpan delay, Exception exception);

    [LoggerMessage(3008, LogLevel.Warning, "Outcome table {Table}: could not take an instance lock; claims rely on their lease until one is taken.")]
    public static partial void InstanceLockFailed(ILogger logger, string table, Exception exception);
}
