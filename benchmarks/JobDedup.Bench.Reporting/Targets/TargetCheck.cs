namespace JobDedup.Bench.Reporting.Targets;

/// <summary>One target, what was measured against it, and whether it was met.</summary>
/// <param name="Name">What is compared.</param>
/// <param name="Wanted">The target as a reader reads it, e.g. "≤ 1.00x HybridCache's time".</param>
/// <param name="Measured">The measured figure, e.g. "5.20 ms = 1.27x".</param>
/// <param name="Met">Whether the measurement reaches the target; false when nothing could be measured.</param>
/// <param name="Why">For a missed target, what the measurements say about it.</param>
public sealed record TargetCheck(string Name, string Wanted, string Measured, bool Met, string? Why = null)
{
    /// <summary>A ratio that must not exceed <paramref name="limit"/>; a ratio not measured misses.</summary>
    public static TargetCheck AtMost(string name, string reference, double limit, double? ratio, string? measured = null, string? why = null) =>
        Compare(name, Format.Invariant($"≤ {limit:0.0#}x {reference}"), ratio, ratio <= limit, measured, why);

    /// <summary>A ratio that must reach at least <paramref name="limit"/>; a ratio not measured misses.</summary>
    public static TargetCheck AtLeast(string name, string reference, double limit, double? ratio, string? measured = null, string? why = null) =>
        Compare(name, Format.Invariant($"≥ {limit:0.0#}x {reference}"), ratio, ratio >= limit, measured, why);

    private static TargetCheck Compare(string name, string wanted, double? ratio, bool met, string? measured, string? why)
    {
        var ratioText = ratio is { } r ? Format.Invariant($"{r:0.00}x") : "not measured";
        return new TargetCheck(name, wanted.TrimEnd(), measured is null ? ratioText : Format.Invariant($"{measured} = {ratioText}"), met, met ? null : why);
    }
}
