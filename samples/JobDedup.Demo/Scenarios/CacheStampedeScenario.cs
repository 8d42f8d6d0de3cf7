using JobDedup.Demo.Simulation;

namespace JobDedup.Demo.Scenarios;

/// <summary>
/// A cached value expires just as a crowd arrives. Without coalescing every user misses and runs the slow refill
/// query; with JobDedup one refill runs and the rest wait for its value.
/// </summary>
internal static class CacheStampedeScenario
{
    private const int Users = 100;
    private const string Key = "report:daily-sales";

    private static readonly TimeSpan RefillTime = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ShortLife = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongLife = TimeSpan.FromMinutes(5);

    public static async Task RunAsync(TextWriter output)
    {
        output.WriteLine($"2. Cache stampede: {Users} users arrive the moment a cached value expires");
        output.WriteLine(
            $"   Refilling the value takes a {RefillTime.TotalSeconds} s query; the database has a connection for every " +
            "user, so the cost shows as load rather than queueing.");
        output.WriteLine();

        var without = await MeasureAsync(coalesce: false);
        var with = await MeasureAsync(coalesce: true);

        var table = new Table("Mode", "Refill queries", "Peak concurrent queries", "Cache writes", "Users served", "Wall time");
        AddRow(table, "Without JobDedup", without);
        AddRow(table, "With SharedCall.RunAsync", with);
        table.Write(output);
        output.WriteLine();
        output.WriteLine(Format.Stats("SharedCall", with.Stats.GetValueOrDefault()));
    }

    private static async Task<Measurement> MeasureAsync(bool coalesce)
    {
        using var database = new SimulatedDatabase(connections: Users, RefillTime, costPerOtherQuery: TimeSpan.Zero);
        var cache = new ExpiringCache();
        var sharedCall = new SharedCall<string, string>();

        // Fill the cache with a short-lived value and let it expire, so the crowd meets a real miss.
        cache.Set(Key, "yesterday's report", ShortLife);
        while (cache.TryGet(Key, out _))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }

        var writesBefore = cache.Writes;
        var served = 0;
        var crowd = await Crowd.RunAsync(Users, async _ =>
        {
            var report = coalesce
                ? await GetAsync(cache, key => sharedCall.RunAsync(key, ct => RefillAsync(database, cache, key, ct)))
                : await GetAsync(cache, key => RefillAsync(database, cache, key, CancellationToken.None));
            if (report.Length > 0)
            {
                Interlocked.Increment(ref served);
            }
        });

        return new Measurement(
            database.Queries,
            database.PeakConcurrentQueries,
            cache.Writes - writesBefore,
            served,
            crowd,
            coalesce ? sharedCall.GetStats() : null);
    }

    private static async Task<string> GetAsync(ExpiringCache cache, Func<string, Task<string>> refill) =>
        cache.TryGet(Key, out var cached) ? cached : await refill(Key);

    private static async Task<string> RefillAsync(SimulatedDatabase database, ExpiringCache cache, string key, CancellationToken cancellationToken)
    {
        var fresh = await database.QueryAsync(key, cancellationToken);
        cache.Set(key, fresh, LongLife);
        return fresh;
    }

    private static void AddRow(Table table, string mode, Measurement run) =>
        table.AddRow(
            mode,
            Format.Count(run.Queries),
            Format.Count(run.PeakConcurrentQueries),
            Format.Count(run.CacheWrites),
            Format.Count(run.Served),
            Format.Seconds(run.Crowd.WallTime));

    private sealed record Measurement(
        int Queries,
        int PeakConcurrentQueries,
        int CacheWrites,
        int Served,
        CrowdResult Crowd,
        DeduplicationStats? Stats);
}
