using System.Net;
using System.Text.Json;
using JobDedup.HttpBench.Load;
using JobDedup.HttpBench.Server;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>
/// (c): bursts of same-key POSTs released at one instant on open connections, against the filter and the hand-written
/// check-then-insert guards, counting handler runs and the distinct charges the answers carry.
/// </summary>
internal static class BurstScenario
{
    public static async Task<BurstResult> RunAsync(HttpClient client, BenchServer server, BenchOptions options, string run, string name, string path)
    {
        // Open the connections the burst needs first, so that the burst measures the endpoint, not TCP handshakes.
        await LoadLoop.BurstAsync(client, _ => new HttpRequestMessage(HttpMethod.Get, "/ping"), HttpStatusCode.OK, options.BurstSize, new List<string>());

        // One burst unmeasured on a key of its own, so that JIT, the store's first statements and its connections are warm.
        await LoadLoop.BurstAsync(client, _ => Requests.Post(path, $"{run}-warm-{path}"), HttpStatusCode.OK, options.BurstSize, new List<string>());

        var bursts = new List<LoadResult>();
        var runs = new List<int>();
        var distinct = new List<int>();
        for (var b = 0; b < options.Bursts; b++)
        {
            var key = $"{run}-burst-{path.Trim('/').Replace('/', '-')}-{b}";
            var bodies = new List<string>();
            bursts.Add(await LoadLoop.BurstAsync(client, _ => Requests.Post(path, key), HttpStatusCode.OK, options.BurstSize, bodies));
            runs.Add(server.Work.RunsOf(key));
            distinct.Add(bodies.Select(ChargeIdOf).Distinct(StringComparer.Ordinal).Count());
        }

        return new BurstResult(name, bursts, runs, distinct);
    }

    private static string ChargeIdOf(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<ChargeAnswer>(body, JsonSerializerOptions.Web)?.ChargeId ?? "(no charge)";
        }
        catch (JsonException)
        {
            return "(not a charge)";
        }
    }
}
