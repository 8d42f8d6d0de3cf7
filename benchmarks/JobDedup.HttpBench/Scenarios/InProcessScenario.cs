using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using JobDedup.HttpBench.Load;
using JobDedup.HttpBench.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace JobDedup.HttpBench.Scenarios;

/// <summary>
/// (d): the layer's own processor time per request, without a server or a client: the cheap endpoint's request delegate
/// with and without the filter, called one request after another on one thread, each with a new
/// <see cref="DefaultHttpContext"/> and a new key, its body in a pipe that has all of it (as a small body comes from
/// Kestrel). Nothing else runs meanwhile, so the difference is what the layer costs on a thread, which the rounds on
/// Kestrel multiply (sockets, thread switches, two shared cores).
/// </summary>
internal static class InProcessScenario
{
    private const int RequestsPerRound = 50_000;
    private const int Rounds = 7;

    public static async Task<InProcessResult> RunAsync(BenchServer server, string run)
    {
        var plain = server.Endpoint("/plain/cheap");
        var filtered = server.Endpoint(FilteredEndpoints.CheapPath);
        var plainRounds = new List<(double Wall, double Cpu)>();
        var filteredRounds = new List<(double Wall, double Cpu)>();
        long sequence = 0;

        // Unmeasured rounds first, for the JIT; then the two alternate round by round.
        for (var round = -3; round < Rounds; round++)
        {
            var p = await RoundAsync(server, plain, run, "p", RequestsPerRound, () => ++sequence);
            var f = await RoundAsync(server, filtered, run, "f", RequestsPerRound, () => ++sequence);
            if (round >= 0)
            {
                plainRounds.Add(p);
                filteredRounds.Add(f);
            }
        }

        return new InProcessResult(
            Phase.Median(plainRounds.Select(r => r.Wall)),
            Phase.Median(plainRounds.Select(r => r.Cpu)),
            Phase.Median(filteredRounds.Select(r => r.Wall)),
            Phase.Median(filteredRounds.Select(r => r.Cpu)),
            RequestsPerRound,
            Rounds);
    }

    /// <summary>Sends one round through <paramref name="endpoint"/>; returns the wall-clock and processor time per request in microseconds.</summary>
    private static async Task<(double Wall, double Cpu)> RoundAsync(BenchServer server, RouteEndpoint endpoint, string run, string prefix, int requests, Func<long> next)
    {
        var before = server.Work.TotalRuns;
        var wall = Stopwatch.StartNew();
        var cpu = Environment.CpuUsage.TotalTime;
        for (var i = 0; i < requests; i++)
        {
            var context = NewContext(server, endpoint, $"{run}-inproc-{prefix}-{next().ToString(CultureInfo.InvariantCulture)}");
            await endpoint.RequestDelegate!(context);
            if (context.Response.StatusCode != StatusCodes.Status200OK)
            {
                throw new InvalidOperationException($"{endpoint.DisplayName} answered {context.Response.StatusCode} in process.");
            }
        }

        var spent = Environment.CpuUsage.TotalTime - cpu;
        var elapsed = wall.Elapsed;
        if (server.Work.TotalRuns - before != requests)
        {
            throw new InvalidOperationException($"The handler ran {server.Work.TotalRuns - before} times for {requests} requests in process.");
        }

        // Processor time of the whole process: the loop's thread, and what the runtime did for it meanwhile (collections).
        return (elapsed.TotalMicroseconds / requests, spent.TotalMicroseconds / requests);
    }

    private static DefaultHttpContext NewContext(BenchServer server, RouteEndpoint endpoint, string key)
    {
        var context = new DefaultHttpContext { RequestServices = server.Services };
        var body = PipeReader.Create(new ReadOnlySequence<byte>(Requests.Body));
        var whole = new WholeBody(body);
        context.Features.Set<IRequestBodyPipeFeature>(whole);
        context.Features.Set<IHttpRequestBodyDetectionFeature>(whole);
        context.Request.Body = body.AsStream();
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = endpoint.RoutePattern.RawText;
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = Requests.Body.Length;
        context.Request.Headers[BenchServer.KeyHeader] = key;
        context.Response.Body = Stream.Null;
        context.SetEndpoint(endpoint);
        return context;
    }

    /// <summary>A body the server has in full: its pipe answers the first read with all of it.</summary>
    private sealed class WholeBody(PipeReader reader) : IRequestBodyPipeFeature, IHttpRequestBodyDetectionFeature
    {
        public PipeReader Reader => reader;

        public bool CanHaveBody => true;
    }
}

/// <summary>Scenario (d): the median round's wall-clock and processor time per request, in microseconds, without and with the filter.</summary>
internal sealed record InProcessResult(double PlainWall, double PlainCpu, double FilteredWall, double FilteredCpu, int RequestsPerRound, int Rounds);
