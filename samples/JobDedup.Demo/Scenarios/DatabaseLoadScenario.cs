using JobDedup.Demo.Simulation;

namespace JobDedup.Demo.Scenarios;

/// <summary>
/// A crowd asks for the same row at once. Without coalescing every request queries a database whose connection
/// pool and contention make each extra query slow the others down; with JobDedup they share one query.
/// </summary>
internal static class DatabaseLoadScenario
{
    private const int Requests = 100;
    private const int Connections = 10;
    private const string Row = "users/42";

    private static readonly TimeSpan QueryTime = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan CostPerOtherQuery = TimeSpan.FromMilliseconds(10);

    public static async Task RunAsync(TextWriter output)
    {
        output.WriteLine($"1. Database load: {Requests} concurrent requests for one row");
        output.WriteLine(
            $"   Simulated database: {Connections} connections; a query takes {QueryTime.TotalMilliseconds} ms plus " +
            $"{CostPerOtherQuery.TotalMilliseconds} ms for every other query in the database at that moment.");
        output.WriteLine();

        var without = await WithoutCoalescingAsync();
        var shared = await WithSharedCallAsync();
        var queued = await WithJobDeduplicatorAsync();

        var table = new Table("Mode", "Queries", "Wall time", "Avg latency", "p99 latency", "Faster (wall)", "Faster (p99)");
        AddRow(table, "Without JobDedup", without, without);
        AddRow(table, "With SharedCall.RunAsync", shared, without);
        AddRow(table, "With JobDeduplicator.EnqueueAsync", queued, without);
        table.Write(output);
        output.WriteLine();

        WriteSharing(output, "SharedCall", shared);
        WriteSharing(output, "JobDeduplicator", queued);
        output.WriteLine();
        output.WriteLine(
            $"   Measured here: {without.Queries} queries -> {shared.Queries}, " +
            $"{Format.Seconds(without.Crowd.WallTime)} -> {Format.Seconds(shared.Crowd.WallTime)}, " +
            $"{Format.Ratio(without.Crowd.WallTime, shared.Crowd.WallTime)} faster, " +
            $"p99 {Format.Ratio(without.Crowd.P99, shared.Crowd.P99)} faster (SharedCall).");
        output.WriteLine(
            "   Reference only (the original Python version of this demo): 100 queries -> 1, " +
            "6.012 s -> 0.065 s, 92.6x faster, p99 96.9x faster.");
    }

    private static SimulatedDatabase NewDatabase() => new(Connections, QueryTime, CostPerOtherQuery);

    private static async Task<Measurement> WithoutCoalescingAsync()
    {
        using var database = NewDatabase();
        var answers = new string[Requests];
        var crowd = await Crowd.RunAsync(Requests, async i => answers[i] = await database.QueryAsync(Row));
        return new Measurement(database.Queries, crowd, answers, Stats: null);
    }

    private static async Task<Measurement> WithSharedCallAsync()
    {
        using var database = NewDatabase();
        var sharedCall = new SharedCall<string, string>();
        var answers = new string[Requests];
        var crowd = await Crowd.RunAsync(
            Requests,
            async i => answers[i] = await sharedCall.RunAsync(Row, ct => database.QueryAsync(Row, ct)));
        return new Measurement(database.Queries, crowd, answers, sharedCall.GetStats());
    }

    private static async Task<Measurement> WithJobDeduplicatorAsync()
    {
        using var database = NewDatabase();
        await using var deduplicator = new JobDeduplicator<RowRequest, string>(
            (job, _, ct) => new ValueTask<string>(database.QueryAsync(job.Row, ct)),
            new JobDedupOptions<RowRequest> { Name = "demo-rows", KeySelector = job => job.Row });
        var answers = new string[Requests];
        var crowd = await Crowd.RunAsync(Requests, async i =>
        {
            var outcome = await deduplicator.EnqueueAsync(new RowRequest(Row, Caller: i));
            answers[i] = outcome.GetValueOrThrow();
        });
        return new Measurement(database.Queries, crowd, answers, deduplicator.GetStats());
    }

    private static void AddRow(Table table, string mode, Measurement run, Measurement baseline) =>
        table.AddRow(
            mode,
            Format.Count(run.Queries),
            Format.Seconds(run.Crowd.WallTime),
            Format.Seconds(run.Crowd.Average),
            Format.Seconds(run.Crowd.P99),
            ReferenceEquals(run, baseline) ? "-" : Format.Ratio(baseline.Crowd.WallTime, run.Crowd.WallTime),
            ReferenceEquals(run, baseline) ? "-" : Format.Ratio(baseline.Crowd.P99, run.Crowd.P99));

    private static void WriteSharing(TextWriter output, string label, Measurement run)
    {
        var distinct = run.Answers.Distinct(StringComparer.Ordinal).Count();
        var sharing = distinct == 1
            ? $"all {run.Answers.Length} callers got the same answer"
            : $"{run.Answers.Length} callers got {distinct} different answers";
        output.WriteLine($"{Format.Stats(label, run.Stats.GetValueOrDefault())}; {sharing}");
    }

    private sealed record RowRequest(string Row, int Caller);

    private sealed record Measurement(int Queries, CrowdResult Crowd, string[] Answers, DeduplicationStats? Stats);
}
