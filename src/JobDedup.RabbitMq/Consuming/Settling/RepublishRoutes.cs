namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>Where the republisher sends copies: the consumer's retry queues and dead-letter exchange.</summary>
/// <param name="SourceQueue">The work queue, named on dead letters and used as their routing key.</param>
/// <param name="DeadLetterExchange">The exchange dead letters go to.</param>
/// <param name="RetryQueues">One queue per retry level.</param>
/// <param name="RetryDelays">The delay of each retry level (the copy's time-to-live).</param>
internal sealed record RepublishRoutes(string SourceQueue, string DeadLetterExchange, IReadOnlyList<string> RetryQueues, IReadOnlyList<TimeSpan> RetryDelays)
{
    public static RepublishRoutes From<TJob, TResult>(RabbitMqConsumerOptions<TJob, TResult> options) => new(
        options.Queue,
        options.DeadLetterExchangeName,
        [.. Enumerable.Range(0, options.RetryDelays.Length).Select(options.RetryQueueName)],
        [.. options.RetryDelays]);
}
