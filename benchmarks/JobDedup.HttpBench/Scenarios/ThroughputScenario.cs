using System.Net;
using JobDedup.HttpBench.Load;
using JobDedup.HttpBench.Server;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>
/// (a) and (b): the cheapest handler without and with the filter, every request a new key; then replays of one stored
/// key. The three alternate round by round, so that a change in the machine's load falls on all of them.
/// </summary>
internal static class ThroughputScenario
{
    public static async Task<ThroughputResult> RunAsync(HttpClient client, BenchServer server, BenchOptions options, string run)
    {
        const string ReplayedKey = "replayed";
        using (var first = await client.SendAsync(Requests.Post(FilteredEndpoints.CheapPath, $"{run}-{ReplayedKey}")))
        {
            first.EnsureSuccessStatusCode();
        }

        // A second of each first, unmeasured, so that JIT and the connection pool are warm.
        await Loop(client, "/plain/cheap", _ => null, TimeSpan.FromSeconds(1), options);
        await Loop(client, FilteredEndpoints.CheapPath, i => $"{run}-warm-{i}", TimeSpan.FromSeconds(1), options);
        await Loop(client, FilteredEndpoints.CheapPath, _ => $"{run}-{ReplayedKey}", TimeSpan.FromSeconds(1), options);

        var plain = new List<LoadResult>();
        var fresh = new List<LoadResult>();
        var replays = new List<LoadResult>();
        var runsBefore = server.Work.TotalRuns;
        for (var round = 0; round < options.Rounds; round++)
        {
            var r = round;
            Console.WriteLine($"  round {round + 1}/{options.Rounds}");
            plain.Add(await Loop(client, "/plain/cheap", _ => null, options.RoundTime, options));
            fresh.Add(await Loop(client, FilteredEndpoints.CheapPath, i => $"{run}-{r}-{i}", options.RoundTime, options));
            var before = server.Work.TotalRuns;
            replays.Add(await Loop(client, FilteredEndpoints.CheapPath, _ => $"{run}-{ReplayedKey}", options.RoundTime, options));
            if (server.Work.TotalRuns != before)
            {
                throw new InvalidOperationException($"The handler ran {server.Work.TotalRuns - before} times during the replay round; a stored key must not run it.");
            }
        }

        var expectedRuns = plain.Sum(p => p.Requests) + fresh.Sum(f => f.Requests);
        if (server.Work.TotalRuns - runsBefore != expectedRuns)
        {
            throw new InvalidOperationException($"The handler ran {server.Work.TotalRuns - runsBefore} times for {expectedRuns} requests with new keys or none.");
        }

        var marked = await FilteredEndpoints.CountReplayMarkedAsync(client, $"{run}-{ReplayedKey}", 100);
        return new ThroughputResult(
            new Phase("without the filter", plain),
            new Phase("filter, a new key each request", fresh),
            new Phase("filter, replays of one stored key", replays),
            marked);
    }

    private static Task<LoadResult> Loop(HttpClient client, string path, Func<int, string?> key, TimeSpan time, BenchOptions options) =>
        LoadLoop.RunAsync(client, i => Requests.Post(path, key(i)), HttpStatusCode.OK, options.Concurrency, BenchOptions.MaxRequestsPerRound, time);
}
