using System.Collections.Concurrent;

namespace JobDedup.Benchmarks.Suites;

/// <summary>
/// Handler runs per benchmark operation, recorded by the contention suite as it runs. The suites run in this process
/// (in-process toolchain), so the report reads the tallies after BenchmarkDotNet returns.
/// </summary>
public static class HandlerRunLog
{
    private static readonly ConcurrentDictionary<string, HandlerRunTally> Tallies = new(StringComparer.Ordinal);

    public static void Record(string benchmark, int runs, TimeSpan workDuration) =>
        Tallies.GetOrAdd(benchmark, static _ => new HandlerRunTally()).Add(runs, workDuration);

    public static HandlerRunTally? Find(string benchmark) => Tallies.TryGetValue(benchmark, out var tally) ? tally : null;
}
