using Microsoft.Extensions.Logging;

namespace JobDedup.RabbitMq.Telemetry;

/// <content>The partition leases: which partitions this instance consumes, and why that changed.</content>
internal static partial class Log
{
    [LoggerMessage(2101, LogLevel.Information, "Consumer {Consumer} ({Member}) consumes partitions [{Partitions}]: {Count} of {Total}, its share is {Share} among {Members} instance(s).")]
    public static partial void PartitionsConsumed(ILogger logger, string consumer, string member, string partitions, int count, int total, int share, int members);

    [LoggerMessage(2102, LogLevel.Information, "Consumer {Consumer} ({Member}) gives up partition queue {Queue}: it stops consuming it, and releases it once its deliveries are settled.")]
    public static partial void PartitionGivingUp(ILogger logger, string consumer, string member, string queue);

    [LoggerMessage(2103, LogLevel.Information, "Consumer {Consumer} ({Member}) released partition queue {Queue}.")]
    public static partial void PartitionReleased(ILogger logger, string consumer, string member, string queue);

    [LoggerMessage(2104, LogLevel.Warning, "Consumer {Consumer} ({Member}) no longer holds the lease of partition queue {Queue}; it stopped consuming it.")]
    public static partial void PartitionLost(ILogger logger, string consumer, string member, string queue);

    [LoggerMessage(2105, LogLevel.Warning, "Consumer {Consumer} ({Member}) could not renew its partition leases for {Elapsed}; it stopped consuming every partition until a renewal succeeds.")]
    public static partial void PartitionsFenced(ILogger logger, string consumer, string member, TimeSpan elapsed);

    [LoggerMessage(2106, LogLevel.Warning, "Consumer {Consumer} ({Member}) could not renew its partition leases; trying again.")]
    public static partial void PartitionRenewalFailed(ILogger logger, string consumer, string member, Exception exception);

    [LoggerMessage(2107, LogLevel.Information, "Consumer {Consumer} ({Member}) renewed its partition leases again.")]
    public static partial void PartitionRenewalResumed(ILogger logger, string consumer, string member);

    [LoggerMessage(2108, LogLevel.Warning, "Consumer {Consumer} ({Member}): partition queue {Queue} could not change hands yet ({Step}); trying again.")]
    public static partial void PartitionStepFailed(ILogger logger, string consumer, string member, string queue, string step, Exception exception);

    [LoggerMessage(2109, LogLevel.Warning, "Consumer {Consumer} ({Member}) could not leave the partition group; its leases pass to the others when its membership lapses.")]
    public static partial void PartitionLeaveFailed(ILogger logger, string consumer, string member, Exception exception);
}
