namespace JobDedup.HttpBench.Load;

/// <summary>What one bounded load loop measured.</summary>
/// <param name="Requests">Requests answered (whatever the status).</param>
/// <param name="Failures">Requests that got a status other than the expected one, or no answer.</param>
/// <param name="Elapsed">Wall-clock time of the loop.</param>
/// <param name="LatenciesMs">Every answered request's latency in milliseconds, sorted.</param>
/// <param name="Statuses">How many answers had each status code.</param>
internal sealed record LoadResult(int Requests, int Failures, TimeSpan Elapsed, double[] LatenciesMs, IReadOnlyDictionary<int, int> Statuses)
{
    /// <summary>Gets what the round cost the process, when it was measured.</summary>
    public ProcessCost? Cost { get; init; }

    /// <summary>Gets the requests answered per second.</summary>
    public double PerSecond => Requests / Elapsed.TotalSeconds;

    /// <summary>Gets the wall-clock time per request at the loop's concurrency, in microseconds: the inverse of throughput.</summary>
    public double MicrosecondsPerRequest => Elapsed.TotalMilliseconds * 1000 / Math.Max(1, Requests);

    /// <summary>Gets a latency percentile (0..100) in milliseconds, nearest rank.</summary>
    public double Percentile(double percent)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percent / 100 * LatenciesMs.Length);
        return LatenciesMs[Math.Clamp(rank - 1, 0, LatenciesMs.Length - 1)];
    }
}
