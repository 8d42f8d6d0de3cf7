using JobDedup.HttpBench.Load;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>Scenario (c) for one contender: bursts of same-key POSTs, each on a fresh key.</summary>
/// <param name="Name">The contender.</param>
/// <param name="Bursts">Each burst's timings.</param>
/// <param name="RunsPerBurst">How many times the handler ran in each burst.</param>
/// <param name="DistinctAnswersPerBurst">How many different charges each burst's answers carried.</param>
internal sealed record BurstResult(string Name, IReadOnlyList<LoadResult> Bursts, IReadOnlyList<int> RunsPerBurst, IReadOnlyList<int> DistinctAnswersPerBurst)
{
    /// <summary>Gets the timings as one phase, for percentiles over every request of every burst.</summary>
    public Phase Timings => new(Name, Bursts);

    /// <summary>Gets the median burst's wall-clock time, first send to last answer, in milliseconds.</summary>
    public double MedianBurstMs => Bursts.Select(b => b.Elapsed.TotalMilliseconds).Order().ElementAt(Bursts.Count / 2);
}
