using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Telemetry;

/// <summary>Log events of the RabbitMQ transport. Event ids are stable; keys may appear, bodies never do.</summary>
internal static partial class Log
{
    [LoggerMessage(2001, LogLevel.Information, "Consumer {Consumer} is consuming queue {Queue} on {Broker} (prefetch {Prefetch}).")]
    public static partial void Consuming(ILogger logger, string consumer, string queue, string broker, int prefetch);

    [LoggerMessage(2002, LogLevel.Warning, "Consumer {Consumer}: message {MessageId} (key {Key}) dead-lettered to {DeadLetterQueue}: {Reason}. {Detail}")]
    public static partial void DeadLettered(ILogger logger, string consumer, string? messageId, string? key, string deadLetterQueue, string reason, string detail);

    [LoggerMessage(2003, LogLevel.Information, "Consumer {Consumer}: key {Key} failed on delivery attempt {Attempt}; it comes back through {RetryQueue} in {Delay}.")]
    public static partial void RetryScheduled(ILogger logger, string consumer, string key, int attempt, string retryQueue, TimeSpan delay);

    [LoggerMessage(2004, LogLevel.Debug, "Consumer {Consumer}: key {Key} already holds {Held} deliveries; one more is parked on {RetryQueue}.")]
    public static partial void Parked(ILogger logger, string consumer, string key, int held, string retryQueue);

    [LoggerMessage(2005, LogLevel.Warning, "Consumer {Consumer}: could not settle a delivery of key {Key}; the broker will deliver it again.")]
    public static partial void SettleFailed(ILogger logger, string consumer, string? key, Exception exception);

    [LoggerMessage(2006, LogLevel.Warning, "Consumer {Consumer}: the connection to the broker was lost ({Reason}); reconnecting.")]
    public static partial void ConnectionLost(ILogger logger, string consumer, string reason);

    [LoggerMessage(2007, LogLevel.Information, "Consumer {Consumer}: reconnected to the broker; unacknowledged deliveries come back and are deduplicated.")]
    public static partial void Reconnected(ILogger logger, string consumer);

    [LoggerMessage(2008, LogLevel.Information, "Consumer {Consumer} is stopping: no new deliveries; {Pending} in progress.")]
    public static partial void Stopping(ILogger logger, string consumer, int pending);

    [LoggerMessage(2009, LogLevel.Warning, "Consumer {Consumer}: shutdown time ran out; {Pending} unfinished deliveries are returned to the queue.")]
    public static partial void Requeuing(ILogger logger, string consumer, int pending);

    [LoggerMessage(2010, LogLevel.Information, "Consumer {Consumer} stopped.")]
    public static partial void Stopped(ILogger logger, string consumer);

    [LoggerMessage(2011, LogLevel.Warning, "Consumer {Consumer}: could not send the reply for key {Key} to {ReplyTo}.")]
    public static partial void ReplyFailed(ILogger logger, string consumer, string key, string replyTo, Exception exception);

    [LoggerMessage(2012, LogLevel.Error, "Publisher {Publisher}: could not publish a message with key {Key}.")]
    public static partial void PublishFailed(ILogger logger, string publisher, string key, Exception exception);

    [LoggerMessage(2013, LogLevel.Warning, "Consumer {Consumer}: could not close its connection cleanly.")]
    public static partial void CloseFailed(ILogger logger, string consumer, Exception exception);

    [LoggerMessage(2014, LogLevel.Error, "Consumer {Consumer}: could not settle a delivery of key {Key} ({Settlement}); it is kept and tried again in {Delay}.")]
    public static partial void SettleDeferred(ILogger logger, string consumer, string? key, string settlement, TimeSpan delay, Exception exception);

    [LoggerMessage(2015, LogLevel.Warning, "Consumer {Consumer}: the broker stopped delivering from queue {Queue} ({Reason}); trying to consume again.")]
    public static partial void ConsumerLost(ILogger logger, string consumer, string queue, string reason);

    [LoggerMessage(2016, LogLevel.Information, "Consumer {Consumer} is consuming queue {Queue} again.")]
    public static partial void ConsumerResumed(ILogger logger, string consumer, string queue);

    [LoggerMessage(2017, LogLevel.Warning, "Consumer {Consumer}: could not consume queue {Queue} again yet; next try in {Delay}.")]
    public static partial void ResumeFailed(ILogger logger, string consumer, string queue, TimeSpan delay, Exception exception);

    [LoggerMessage(2018, LogLevel.Error, "Consumer {Consumer}: a delivery of key {Key} failed in a way that was not expected; it goes back to the queue.")]
    public static partial void UnexpectedFailure(ILogger logger, string consumer, string? key, Exception exception);

    [LoggerMessage(2019, LogLevel.Warning, "Consumer {Consumer}: the outcome store is unavailable; intake is paused ({Pending} deliveries in hand go back to the queue without counting an attempt) until it answers again.")]
    public static partial void IntakePaused(ILogger logger, string consumer, int pending);

    [LoggerMessage(2020, LogLevel.Information, "Consumer {Consumer}: the outcome store answers again; intake resumed.")]
    public static partial void IntakeResumed(ILogger logger, string consumer);

    [LoggerMessage(2051, LogLevel.Warning, "Consumer {Consumer}: the broker at {Broker} cannot be reached ({Reason}); the host runs on and the consumer keeps trying in the background, first in {Delay}, at most every 30 s. It reports Unhealthy until it consumes.")]
    public static partial void BrokerUnreachable(ILogger logger, string consumer, string broker, string reason, TimeSpan delay);

    [LoggerMessage(2052, LogLevel.Debug, "Consumer {Consumer}: the broker is still not reachable; next try in {Delay}.")]
    public static partial void BrokerStillUnreachable(ILogger logger, string consumer, TimeSpan delay, Exception exception);

    [LoggerMessage(2054, LogLevel.Error, "Consumer {Consumer} could not connect: {Reason}. It reports Unhealthy and tries again in {Delay}.")]
    public static partial void CredentialsRefused(ILogger logger, string consumer, string reason, TimeSpan delay);

    [LoggerMessage(2053, LogLevel.Information, "Consumer {Consumer}: reached the broker after {Attempts} attempts.")]
    public static partial void BrokerReached(ILogger logger, string consumer, int attempts);
}
