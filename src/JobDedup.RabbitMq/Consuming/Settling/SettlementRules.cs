namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>The consumer options the settlement policy reads.</summary>
/// <param name="MaxDeliveryAttempts">Deliveries of one message before it is dead-lettered.</param>
/// <param name="RetryLevels">How many retry queues (delays) there are.</param>
/// <param name="IsPermanentFailure">Which failures are dead-lettered at once; null for none.</param>
internal sealed record SettlementRules(int MaxDeliveryAttempts, int RetryLevels, Func<Exception, bool>? IsPermanentFailure)
{
    public static SettlementRules From<TJob, TResult>(RabbitMqConsumerOptions<TJob, TResult> options) =>
        new(options.MaxDeliveryAttempts, options.RetryDelays.Length, options.IsPermanentFailure);

    /// <summary>The retry level (index into the delays) for a delivery about to make attempt <paramref name="nextAttempt"/>.</summary>
    public int RetryLevel(int nextAttempt) => Math.Clamp(nextAttempt - 2, 0, RetryLevels - 1);
}
