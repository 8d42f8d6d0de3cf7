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
}
