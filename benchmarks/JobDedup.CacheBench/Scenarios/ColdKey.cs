using System.Diagnostics;

namespace JobDedup.CacheBench.Scenarios;

/// <summary>The seed's demo: many concurrent requests on a cold key in one process.</summary>
internal static class ColdKey
{
    public static async Task<ColdKeyResult> RunAsync(string contender, string redis, int requests, TimeSpan query)
    {
        await using var cache = Contenders.Contenders.Create(contender, redis, Names.NewNamespace());
        var database = new SlowQuery(query);
        await cache.GetAsync("warm-up", _ => ValueTask.FromResult("warm"), TimeSpan.FromMinutes(5));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, requests).Select(async _ =>
        {
            await start.Task;
            return await cache.GetAsync("product:42", database.RunAsync, TimeSpan.FromMinutes(5));
        }).ToArray();
        var clock = Stopwatch.StartNew();
        start.SetResult();
        var values = await Task.WhenAll(calls);
        return new ColdKeyResult(cache.Name, requests, database.Hits, clock.Elapsed, values.Distinct().Count());
    }
}

internal sealed record ColdKeyResult(string Contender, int Requests, int DatabaseHits, TimeSpan Took, int DistinctValues);
