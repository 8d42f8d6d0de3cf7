using System.Diagnostics;
using System.Net;
using System.Runtime;
using JobDedup.HttpBench.Load;
using JobDedup.HttpBench.Server;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>
/// (a) and (b): the cheapest handler without and with the filter, every request a new key; then replays of one stored
/// key. The contenders take turns within each round, so that a change in the machine's load falls on all of them.
/// </summary>
internal static class ThroughputScenario
{
    /// <summary>The most the JIT compiles in a cycle of the warm-up (five seconds of requests) once it is done.</summary>
    public static readonly TimeSpan SettledJitPerCycle = TimeSpan.FromMilliseconds(100);

    /// <summary>The most warm-up cycles, however much the JIT still compiles.</summary>
    public const int MaxWarmUpCycles = 8;

    /// <summary>The contenders of (a) and (a'), in pairs: without the filter, then with it (see <see cref="RoundOrder"/>).</summary>
    private static readonly NewKeyContender[] NewKeyContenders =
    [
        new("/plain/cheap", "without", WithBody: true),
        new(FilteredEndpoints.CheapPath, "filter", WithBody: true),
        new("/plain/empty", "without-no-body", WithBody: false),
        new(FilteredEndpoints.EmptyPath, "filter-no-body", WithBody: false),
    ];

    public static async Task<ThroughputResult> RunAsync(HttpClient client, BenchServer server, BenchOptions options, string run)
    {
        using var queue = new QueueCounter();
        const string ReplayedKey = "replayed";
        await StoreAsync(client, $"{run}-{ReplayedKey}");
        var warmUp = await WarmUpAsync(client, options, run, $"{run}-{ReplayedKey}");

        var newKeys = Array.ConvertAll(NewKeyContenders, _ => new List<LoadResult>());
        var replays = new List<LoadResult>();
        for (var round = 0; round < options.Rounds; round++)
        {
            Console.WriteLine($"  round {round + 1}/{options.Rounds}");
            foreach (var c in RoundOrder(round))
            {
                var contender = NewKeyContenders[c];
                var label = $"r{round}";
                newKeys[c].Add(await Counted(server, queue, () => NewKeysLoop(client, contender, run, label, options.RoundTime, options)));
            }

            Console.WriteLine($"    µs per request (processor µs): {string.Join(", ", NewKeyContenders.Select((contender, c) => $"{contender.Name} {newKeys[c][^1].MicrosecondsPerRequest:0.0} ({newKeys[c][^1].Cost!.CpuMicrosecondsPer(newKeys[c][^1].Requests):0})"))}");

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
            warmUp,
            new Phase("without the filter", newKeys[0]),
            new Phase("filter, a new key each request", newKeys[1]),
            new Phase("filter, replays of one stored key", replays),
            marked,
            new Phase("without the filter, no body", newKeys[2]),
            new Phase("filter, a new key each request, no body", newKeys[3]));
    }

    /// <summary>
    /// The order the contenders of (a) and (a') run in a round. They come in pairs (without the filter, then with it):
    /// each pair runs in that order in even rounds and the other way round in odd ones, so that whatever a round's place
    /// does to a contender (the one after the replays, the one after the collection) falls on both alike over the rounds.
    /// </summary>
    private static IEnumerable<int> RoundOrder(int round) =>
        Enumerable.Range(0, NewKeyContenders.Length).Select(c => round % 2 == 0 ? c : c ^ 1);

    /// <summary>
    /// Sends a second of each contender's requests, unmeasured, again and again until the JIT is done with them: until
    /// one whole cycle compiled for less than <see cref="SettledJitPerCycle"/>, or <see cref="MaxWarmUpCycles"/> cycles.
    /// Tiered compilation keeps compiling for several seconds under load (the filter's path, longer than the bare
    /// endpoint's, the longest); a round measured meanwhile pays for compilation, on the same two cores, that a
    /// running application has long finished.
    /// </summary>
    private static async Task<WarmUp> WarmUpAsync(HttpClient client, BenchOptions options, string run, string replayedKey)
    {
        var second = TimeSpan.FromSeconds(1);
        var started = Stopwatch.GetTimestamp();
        for (var cycle = 1; ; cycle++)
        {
            var compiling = JitInfo.GetCompilationTime();
            foreach (var contender in NewKeyContenders)
            {
                await NewKeysLoop(client, contender, run, $"warm{cycle}", second, options);
            }

            await Loop(client, FilteredEndpoints.CheapPath, _ => replayedKey, second, options);
            var compiled = JitInfo.GetCompilationTime() - compiling;
            if ((cycle > 1 && compiled < SettledJitPerCycle) || cycle == MaxWarmUpCycles)
            {
                Console.WriteLine($"  warmed up in {cycle} cycles; the last compiled for {compiled.TotalMilliseconds:0} ms");
                return new WarmUp(cycle, Stopwatch.GetElapsedTime(started), compiled);
            }
        }
    }

    /// <summary>Runs a loop whose every request must run the handler once, checks that it did, and records what it cost the process.</summary>
    private static async Task<LoadResult> Counted(BenchServer server, QueueCounter queue, Func<Task<LoadResult>> loop)
    {
        Settle();
        var before = server.Work.TotalRuns;
        var cost = ProcessCost.Start(queue);
        var result = await loop();
        result = result with { Cost = cost.Stop() };
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

    /// <summary>A round of one contender that sends a new key with each request (the handler runs every time).</summary>
    private static Task<LoadResult> NewKeysLoop(HttpClient client, NewKeyContender contender, string run, string label, TimeSpan time, BenchOptions options) =>
        Loop(client, contender.Path, i => $"{run}-{contender.Name}-{label}-{i}", time, options, contender.WithBody);

    private static Task<LoadResult> Loop(HttpClient client, string path, Func<int, string?> key, TimeSpan time, BenchOptions options, bool withBody = true) =>
        LoadLoop.RunAsync(client, i => Requests.Post(path, key(i), withBody), HttpStatusCode.OK, options.Concurrency, BenchOptions.MaxRequestsPerRound, time);

    /// <summary>An endpoint measured with a new key per request.</summary>
    /// <param name="Path">The endpoint.</param>
    /// <param name="Name">Its name in keys and on the console.</param>
    /// <param name="WithBody">Whether its requests carry the payment body.</param>
    private sealed record NewKeyContender(string Path, string Name, bool WithBody);
}
