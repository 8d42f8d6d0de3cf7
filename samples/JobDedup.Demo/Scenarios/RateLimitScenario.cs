using JobDedup.Demo.Simulation;

namespace JobDedup.Demo.Scenarios;

/// <summary>
/// A crowd needs the same answer from an upstream that allows only a few requests per second and refuses the rest.
/// Without coalescing most callers are refused; with JobDedup they all share one permitted request.
/// </summary>
internal static class RateLimitScenario
{
    private const int Callers = 100;
    private const int RequestsPerSecond = 10;
    private const string Resource = "exchange-rates/EUR";

    private static readonly TimeSpan ResponseTime = TimeSpan.FromMilliseconds(100);

    public static async Task RunAsync(TextWriter output)
    {
        output.WriteLine($"3. Rate limit: {Callers} concurrent callers need the same answer from a rate-limited upstream");
        output.WriteLine(
            $"   The upstream allows {RequestsPerSecond} requests per second and refuses the rest at once (no queue); " +
            $"it answers in {ResponseTime.TotalMilliseconds} ms.");
        output.WriteLine();

        var without = await MeasureAsync(coalesce: false);
        var with = await MeasureAsync(coalesce: true);

        var table = new Table("Mode", "Succeeded", "Refused", "Upstream calls", "Refused by upstream", "Wall time");
        AddRow(table, "Without JobDedup", without);
        AddRow(table, "With SharedCall.RunAsync", with);
        table.Write(output);
        output.WriteLine();
        output.WriteLine(Format.Stats("SharedCall", with.Stats.GetValueOrDefault()));
    }

    private static async Task<Measurement> MeasureAsync(bool coalesce)
    {
        // A fresh upstream per run, so each run starts with a full window.
        await using var upstream = new RateLimitedUpstream(RequestsPerSecond, TimeSpan.FromSeconds(1), ResponseTime);
        var sharedCall = new SharedCall<string, string>();
        var succeeded = 0;
        var refused = 0;
        var crowd = await Crowd.RunAsync(Callers, async _ =>
        {
            try
            {
                await (coalesce
                    ? sharedCall.RunAsync(Resource, ct => upstream.GetAsync(Resource, ct))
                    : upstream.GetAsync(Resource));
                Interlocked.Increment(ref succeeded);
            }
            catch (UpstreamRefusedException)
            {
                Interlocked.Increment(ref refused);
            }
        });

        return new Measurement(succeeded, refused, upstream.Calls, upstream.Refused, crowd, coalesce ? sharedCall.GetStats() : null);
    }

    private static void AddRow(Table table, string mode, Measurement run) =>
        table.AddRow(
            mode,
            Format.Count(run.Succeeded),
            Format.Count(run.Refused),
            Format.Count(run.UpstreamCalls),
            Format.Count(run.UpstreamRefused),
            Format.Seconds(run.Crowd.WallTime));

    private sealed record Measurement(
        int Succeeded,
        int Refused,
        int UpstreamCalls,
        int UpstreamRefused,
        CrowdResult Crowd,
        DeduplicationStats? Stats);
}
