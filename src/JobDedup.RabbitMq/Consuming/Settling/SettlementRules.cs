namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>The consumer and deduplicator options the settlement policy reads.</summary>
/// <param name="MaxDeliveryAttempts">Deliveries of one message before it is dead-lettered.</param>
/// <param name="RetryLevels">How many retry queues (delays) there are.</param>
/// <param name="IsPermanentFailure">The deduplicator's classification of failures; null for <see cref="FailureClassification.IsPermanentByDefault"/>.</param>
internal sealed record SettlementRules(int MaxDeliveryAttempts, int RetryLevels, Func<Exception, bool>? IsPermanentFailure)
{
    public static SettlementRules From<TJob, TResult>(RabbitMqConsumerOptions<TJob, TResult> options, Func<Exception, bool>? isPermanentFailure) =>
        new(options.MaxDeliveryAttempts, options.RetryDelays.Length, isPermanentFailure);

    /// <summary>The retry level (index into the delays) for a delivery about to make attempt <paramref name="nextAttempt"/>.</summary>
    public int RetryLevel(int nextAttempt) => Math.Clamp(nextAttempt - 2, 0, RetryLevels - 1);
}
