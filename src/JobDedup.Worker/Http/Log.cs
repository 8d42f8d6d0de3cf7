using Microsoft.Extensions.Logging;

namespace JobDedup.Worker.Http;

/// <summary>The HTTP face's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(6001, LogLevel.Information, "HTTP face listening on {Address}: {Endpoints}.")]
    public static partial void Listening(ILogger logger, string address, string endpoints);

    [LoggerMessage(6002, LogLevel.Warning, "The dashboard's sample of this second failed; the next one is taken as usual.")]
    public static partial void SampleFailed(ILogger logger, Exception exception);

    [LoggerMessage(6003, LogLevel.Information, "HTTP face stopped.")]
    public static partial void Stopped(ILogger logger);
}
