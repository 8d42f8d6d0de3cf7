namespace JobDedup.Worker.Http.Stats;

/// <summary>One second of handler attempt durations.</summary>
/// <param name="Attempts">Attempts that ended in that second.</param>
/// <param name="P50">The median, in milliseconds (the upper bound of its bucket).</param>
/// <param name="P95">The 95th percentile, in milliseconds (the upper bound of its bucket).</param>
/// <param name="Max">The longest, in milliseconds.</param>
internal readonly record struct LatencySummary(long Attempts, double P50, double P95, double Max)
{
    public static LatencySummary None { get; } = new(0, 0, 0, 0);
}
