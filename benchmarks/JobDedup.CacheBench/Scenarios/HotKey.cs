using System.Diagnostics;

namespace JobDedup.CacheBench.Scenarios;

/// <summary>
/// Steady load on one hot key across several expiries. A request counts as "around a refresh" when it starts within
/// half a second of a query (the value being rebuilt, at or before its expiry); the others are the steady state.
/// </summary>
internal static class HotKey
{
    public static async Task<HotKeyResult> RunAsync(string contender, string redis, TimeSpan timeToLive, TimeSpan duration, int clients, TimeSpan query)
    {
        await using var cache = Contenders.Contenders.Create(contender, redis, Names.NewNamespace());
        var database = new SlowQuery(query);
        await cache.GetAsync("hot", database.RunAsync, timeToLive);
        var samples = new List<(long Start, double Ms)>[clients];
        var origin = Stopwatch.GetTimestamp();
        var originTime = DateTimeOffset.UtcNow;
        var end = origin + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, clients).Select(async i =>
        {
            samples[i] = [];
            while (Stopwatch.GetTimestamp() < end && samples[i].Count < 200_000)
            {
                var started = Stopwatch.GetTimestamp();
                await cache.GetAsync("hot", database.RunAsync, timeToLive);
                samples[i].Add((started, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
                await Task.Delay(1);
            }
        }).ToArray();
        await Task.WhenAll(loops);

        var refreshes = database.Runs.Skip(1).Select(r => origin + (long)((r - originTime).TotalSeconds * Stopwatch.Frequency)).ToArray();
        var half = Stopwatch.Frequency / 2;
        var around = new List<double>();
        var steady = new List<double>();
        foreach (var (start, ms) in samples.SelectMany(s => s))
        {
            (refreshes.Any(r => Math.Abs(start - r) <= half) ? around : steady).Add(ms);
        }

        return new HotKeyResult(
            cache.Name,
            refreshes.Length,
            Percentile(steady, 0.5),
            Percentile(steady, 0.99),
            Percentile(steady, 0.999),
            Percentile(around, 0.5),
            Percentile(around, 0.99),
            Percentile(around, 0.999),
            around.Count == 0 ? double.NaN : around.Max(),
            steady.Count(ms => ms > 10) + around.Count(ms => ms > 10),
            steady.Count + around.Count);
    }

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }
}

internal sealed record HotKeyResult(
    string Contender,
    int Refreshes,
    double SteadyP50,
    double SteadyP99,
    double SteadyP999,
    double AroundP50,
    double AroundP99,
    double AroundP999,
    double AroundMax,
    int SlowRequests,
    int Requests);
