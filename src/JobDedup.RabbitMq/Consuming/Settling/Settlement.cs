namespace JobDedup.RabbitMq.Consuming.Settling;

/// <summary>What to do with one delivery: the decision, carried out by <see cref="Settler"/>.</summary>
/// <param name="Kind">How to settle it.</param>
/// <param name="RetryLevel">For <see cref="SettlementKind.Retry"/>: the index of the retry queue (and its delay).</param>
/// <param name="NextAttempt">For <see cref="SettlementKind.Retry"/>: the delivery attempt the copy makes.</param>
/// <param name="Reason">For <see cref="SettlementKind.DeadLetter"/>: one of <see cref="DeadLetterReasons"/>.</param>
/// <param name="Detail">For <see cref="SettlementKind.DeadLetter"/>: why, in words, for the header and the log.</param>
/// <param name="Exception">The failure behind a retry or a dead letter, if any.</param>
internal readonly record struct Settlement(
    SettlementKind Kind,
    int RetryLevel = 0,
    int NextAttempt = 0,
    string Reason = "",
    string Detail = "",
    Exception? Exception = null)
{
    public static Settlement Ack { get; } = new(SettlementKind.Ack);

    public static Settlement Park { get; } = new(SettlementKind.Park);

    public static Settlement Requeue { get; } = new(SettlementKind.Requeue);

    public static Settlement Retry(int level, int nextAttempt, Exception? exception) =>
        new(SettlementKind.Retry, RetryLevel: level, NextAttempt: nextAttempt, Exception: exception);

    public static Settlement DeadLetter(string reason, string detail, Exception? exception = null) =>
        new(SettlementKind.DeadLetter, Reason: reason, Detail: detail, Exception: exception);
}
