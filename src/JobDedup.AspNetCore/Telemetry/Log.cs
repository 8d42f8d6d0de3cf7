using Microsoft.Extensions.Logging;

namespace JobDedup.AspNetCore.Telemetry;

/// <summary>The idempotency layer's log events (7001–7099). Keys and bodies are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(7001, LogLevel.Information, "The response of {Endpoint} ({Bytes} bytes) is larger than MaxBodyBytes ({MaxBodyBytes}): it was sent, but not kept, so a repeat of its key runs the endpoint again.")]
    public static partial void ResponseTooLarge(ILogger logger, string endpoint, long bytes, int maxBodyBytes);

    [LoggerMessage(7002, LogLevel.Debug, "The response of {Endpoint} ({StatusCode}) is not kept: a repeat of its key runs the endpoint again.")]
    public static partial void ResponseNotKept(ILogger logger, string endpoint, int statusCode);

    [LoggerMessage(7003, LogLevel.Debug, "A request to {Endpoint} was refused: {Reason}")]
    public static partial void KeyRefused(ILogger logger, string endpoint, string reason);

    [LoggerMessage(7004, LogLevel.Information, "A request to {Endpoint} reused an idempotency key of a different request (422).")]
    public static partial void Mismatch(ILogger logger, string endpoint);

    [LoggerMessage(7005, LogLevel.Warning, "A request to {Endpoint} could not be deduplicated now ({Status}); answered 503.")]
    public static partial void Unavailable(ILogger logger, string endpoint, JobStatus status, Exception? exception);

    [LoggerMessage(7006, LogLevel.Debug, "A request to {Endpoint} waited for a run of its key that failed; answered 500.")]
    public static partial void SharedRunFailed(ILogger logger, string endpoint, Exception? exception);
}
