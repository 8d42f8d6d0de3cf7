namespace JobDedup.HttpBench.Load;

/// <summary>One contender's rounds of a load loop, summarised by their median so that one noisy round does not decide.</summary>
/// <param name="Name">What ran, as the table names it.</param>
/// <param name="Rounds">Each round's result.</param>
internal sealed record Phase(string Name, IReadOnlyList<LoadResult> Rounds)
{
    /// <summary>Gets the median round's wall-clock time per request, in microseconds.</summary>
    public double MicrosecondsPerRequest => Median(Rounds.Select(r => r.MicrosecondsPerRequest));

    /// <summary>Gets the median round's requests per second.</summary>
    public double PerSecond => Median(Rounds.Select(r => r.PerSecond));

    /// <summary>Gets the median round's processor time per request, in microseconds (NaN when not measured).</summary>
    public double CpuMicrosecondsPerRequest => Median(Measured(r => r.Cost!.CpuMicrosecondsPer(r.Requests)));

    /// <summary>Gets the median round's thread-pool work items per request.</summary>
    public double WorkItemsPerRequest => Median(Measured(r => r.Cost!.WorkItems / (double)Math.Max(1, r.Requests)));

    /// <summary>Gets the median round's jobs queued for the engine's dispatcher per 1,000 requests.</summary>
    public double QueuedPerThousand => Median(Measured(r => r.Cost!.Queued * 1000.0 / Math.Max(1, r.Requests)));

    /// <summary>Gets the requests answered over all rounds.</summary>
    public int Requests => Rounds.Sum(r => r.Requests);

    /// <summary>Gets the failed requests over all rounds.</summary>
    public int Failures => Rounds.Sum(r => r.Failures);

    /// <summary>Gets a latency percentile over every request of every round, in milliseconds.</summary>
    public double Percentile(double percent) =>
        new LoadResult(Requests, Failures, TimeSpan.Zero, [.. Rounds.SelectMany(r => r.LatenciesMs).Order()], new Dictionary<int, int>()).Percentile(percent);

    private IEnumerable<double> Measured(Func<LoadResult, double> value) => Rounds.Where(r => r.Cost is not null).Select(value);

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count; NaN for none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
