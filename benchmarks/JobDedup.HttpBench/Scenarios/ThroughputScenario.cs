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
        // A second of each first, unmeasured, so that JIT and the connection pool are warm.
        // The endpoints without the filter get the very same requests, an idempotency key included, so that a ratio is
        // the filter's cost alone and not that of sending and parsing one more header.
        await Loop(client, "/plain/cheap", i => $"{run}-plain-warm-{i}", TimeSpan.FromSeconds(1), options);
        await Loop(client, FilteredEndpoints.CheapPath, i => $"{run}-warm-{i}", TimeSpan.FromSeconds(1), options);
        await StoreAsync(client, $"{run}-{ReplayedKey}");
        await Loop(client, FilteredEndpoints.CheapPath, _ => $"{run}-{ReplayedKey}", TimeSpan.FromSeconds(1), options);

        await Loop(client, "/plain/empty", i => $"{run}-plain-warm-empty-{i}", TimeSpan.FromSeconds(1), options, withBody: false);
        await Loop(client, FilteredEndpoints.EmptyPath, i => $"{run}-warm-empty-{i}", TimeSpan.FromSeconds(1), options, withBody: false);

        var plainEmpty = new List<LoadResult>();
        var freshEmpty = new List<LoadResult>();
        var plain = new List<LoadResult>();
        var fresh = new List<LoadResult>();
        var replays = new List<LoadResult>();
        for (var round = 0; round < options.Rounds; round++)
        {
            var r = round;
            Console.WriteLine($"  round {round + 1}/{options.Rounds}");
            plain.Add(await Counted(server, () => Loop(client, "/plain/cheap", i => $"{run}-plain-{r}-{i}", options.RoundTime, options)));
            fresh.Add(await Counted(server, () => Loop(client, FilteredEndpoints.CheapPath, i => $"{run}-{r}-{i}", options.RoundTime, options)));
            plainEmpty.Add(await Counted(server, () => Loop(client, "/plain/empty", i => $"{run}-plain-{r}-empty-{i}", options.RoundTime, options, withBody: false)));
            freshEmpty.Add(await Counted(server, () => Loop(client, FilteredEndpoints.EmptyPath, i => $"{run}-{r}-empty-{i}", options.RoundTime, options, withBody: false)));

            // The new keys of the round before may have pushed it out of the window (10,000 answers by default): store it again.
            await StoreAsync(client, $"{run}-{ReplayedKey}");
            Settle();
            var before = server.Work.TotalRuns;
            replays.Add(await Loop(client, FilteredEndpoints.CheapPath, _ => $"{run}-{ReplayedKey}", options.RoundTime, options));
            if (server.Work.TotalRuns != before)
            {
                throw new InvalidOperationException($"The handler ran {server.Work.TotalRuns - before} times during the replay round; a stored key must not run it.");
            }
        }

        var marked = await FilteredEndpoints.CountReplayMarkedAsync(client, $"{run}-{ReplayedKey}", 100);
        return new ThroughputResult(
            new Phase("without the filter", plain),
            new Phase("filter, a new key each request", fresh),
            new Phase("filter, replays of one stored key", replays),
            marked,
            new Phase("without the filter, no body", plainEmpty),
            new Phase("filter, a new key each request, no body", freshEmpty));
    }

    /// <summary>Runs a loop whose every request must run the handler once, and checks that it did.</summary>
    private static async Task<LoadResult> Counted(BenchServer server, Func<Task<LoadResult>> loop)
    {
        Settle();
        var before = server.Work.TotalRuns;
        var result = await loop();
        var runs = server.Work.TotalRuns - before;
        return runs == result.Requests - result.Failures
            ? result
            : throw new InvalidOperationException($"The handler ran {runs} times for {result.Requests - result.Failures} answered requests.");
    }

    /// <summary>
    /// Collects the garbage of the rounds before, so that a round pays for its own: the contenders share one process,
    /// and without this the answers the filter's rounds let go (those its window of 10,000 pushed out) were collected
    /// during the next round, often the endpoint's without the filter, which then looked slower than it is.
    /// </summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>Sends the key once, unmeasured, so that its answer is in the store; counted as a run if it was not.</summary>
    private static async Task StoreAsync(HttpClient client, string key)
    {
        using var response = await client.SendAsync(Requests.Post(FilteredEndpoints.CheapPath, key));
        response.EnsureSuccessStatusCode();
    }

    private static Task<LoadResult> Loop(HttpClient client, string path, Func<int, string?> key, TimeSpan time, BenchOptions options, bool withBody = true) =>
        LoadLoop.RunAsync(client, i => Requests.Post(path, key(i), withBody), HttpStatusCode.OK, options.Concurrency, BenchOptions.MaxRequestsPerRound, time);
}
