namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>One target of the issue, and how the measurement compares.</summary>
/// <param name="Name">What is compared.</param>
/// <param name="Wanted">The target, e.g. "≥ 0.95x".</param>
/// <param name="Ratio">The measured ratio; null when a run failed.</param>
/// <param name="Met">Whether the ratio reaches the target.</param>
/// <param name="Why">For a missed target, what the measurements say about it.</param>
internal sealed record TargetCheck(string Name, string Wanted, double? Ratio, bool Met, string? Why);
