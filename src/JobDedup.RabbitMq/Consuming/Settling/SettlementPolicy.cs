namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>
/// Decides how a delivery is settled from its flight's outcome and its delivery attempt. A pure function: it reads
/// nothing but its arguments and touches nothing; <see cref="Settler"/> carries the decision out.
/// </summary>
internal static class SettlementPolicy
{
    /// <summary>Decides how to settle a delivery whose flight ended with <paramref name="status"/>.</summary>
    /// <param name="status">How the flight ended.</param>
    /// <param name="exception">The final attempt's failure, for <see cref="JobStatus.Failed"/>; the <see cref="PayloadMismatchException"/>, for <see cref="JobStatus.Conflict"/>.</param>
    /// <param name="attempt">The delivery attempt this delivery made (1 for the first).</param>
    /// <param name="rules">The limits that apply.</param>
    /// <returns>
    /// The settlement: a failure the deduplicator's classification calls permanent is dead-lettered on its first
    /// delivery, and so is a job whose key another payload holds (<see cref="JobStatus.Conflict"/>). A classifier
    /// that throws counts as "not permanent", and its failure travels in <see cref="SettlementDecision.ClassifierFailure"/>.
    /// </returns>
    public static SettlementDecision Decide(JobStatus status, Exception? exception, int attempt, SettlementRules rules)
    {
        switch (status)
        {
            case JobStatus.Succeeded:
                return new(Settlement.Ack);

            case JobStatus.Failed:
                var failure = exception ?? new InvalidOperationException("The handler failed without an exception.");
                var permanent = IsPermanent(rules, failure, out var classifierFailure);
                if (permanent)
                {
                    return new(Settlement.DeadLetter(DeadLetterReasons.PermanentFailure, "The handler's failure is permanent; it is not retried.", failure), classifierFailure);
                }

                return attempt >= rules.MaxDeliveryAttempts
                    ? new(Settlement.DeadLetter(DeadLetterReasons.HandlerFailed, $"The handler failed on all {attempt} delivery attempts.", failure), classifierFailure)
                    : new(Settlement.Retry(rules.RetryLevel(attempt + 1), attempt + 1, failure), classifierFailure);

            // Another job under the same key: running it again or later would not change that.
            case JobStatus.Conflict:
                return new(Settlement.DeadLetter(
                    DeadLetterReasons.PayloadMismatch,
                    "The key is already used by a message with a different payload; it is not run.",
                    exception ?? new PayloadMismatchException()));

            // The key's waiter limit or the deduplicator's queue is full: come back later, without counting an attempt.
            case JobStatus.Rejected:
                return new(Settlement.Park);

            // The outcome store is down: the job did not run. Back to the queue without counting an attempt; the consumer
            // pauses its intake meanwhile, so it does not come straight back.
            case JobStatus.Unavailable:
                return new(Settlement.Requeue);

            // Canceled: the consumer or the deduplicator is stopping.
            default:
                return new(Settlement.Requeue);
        }
    }

    private static bool IsPermanent(SettlementRules rules, Exception failure, out Exception? classifierFailure) =>
        FailureClassification.IsPermanent(rules.IsPermanentFailure, failure, out classifierFailure);
}
