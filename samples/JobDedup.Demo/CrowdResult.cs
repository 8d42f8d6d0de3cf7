namespace JobDedup.Demo;

/// <summary>How long a burst took as a whole and for each caller.</summary>
internal sealed class CrowdResult
{
    private readonly TimeSpan[] _sorted;

    public CrowdResult(TimeSpan wallTime, TimeSpan[] latencies)
    {
        WallTime = wallTime;
        _sorted = [.. latencies.Order()];
    }

    public TimeSpan WallTime { get; }

    public TimeSpan Average => TimeSpan.FromTicks((long)_sorted.Average(l => l.Ticks));

    /// <summary>Gets the 99th percentile latency by the nearest-rank method.</summary>
    public TimeSpan P99 => _sorted[(int)Math.Ceiling(0.99 * _sorted.Length) - 1];
}
