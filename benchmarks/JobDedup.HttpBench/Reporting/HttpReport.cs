using System.Text;
using JobDedup.Bench.Reporting;
using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Markdown;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.Bench.Reporting.Text;
using JobDedup.HttpBench.Load;
using JobDedup.HttpBench.Scenarios;

namespace JobDedup.HttpBench.Reporting;

/// <summary>Writes docs/benchmarks/http.md and the console summary from one run's results.</summary>
internal sealed class HttpReport(ThroughputResult throughput, InProcessResult inProcess, IReadOnlyList<BurstResult> bursts, BenchOptions options, RunInfo run)
{
    /// <summary>The filter's cost per request allowed over the plain endpoint's.</summary>
    public const double OverheadLimit = 1.2;

    /// <summary>Gets the targets and what this run measured against them.</summary>
    public IReadOnlyList<TargetCheck> Targets()
    {
        var overhead = throughput.NewKeys.MicrosecondsPerRequest / throughput.Plain.MicrosecondsPerRequest;
        var checks = new List<TargetCheck>
        {
            TargetCheck.AtMost(
                "(a) filter on a cheap endpoint, a new key each request: time per request",
                "the endpoint without it",
                OverheadLimit,
                overhead,
                Format.Invariant($"{throughput.NewKeys.MicrosecondsPerRequest:0.0} µs against {throughput.Plain.MicrosecondsPerRequest:0.0} µs"),
                "with a new key each request also has its key read and checked, its body read and fingerprinted (canonical JSON, XxHash128), a flight in the engine, the response captured and kept in the window (packed, in a reused array); the endpoint without it only binds the body and runs the handler."),
        };
        foreach (var filter in bursts.Where(b => !IsGuard(b)))
        {
            checks.Add(new TargetCheck(
                Format.Invariant($"(c) {options.BurstSize} concurrent same-key POSTs through the {filter.Name} run the handler once"),
                Format.Invariant($"1 run in each of {options.Bursts} bursts"),
                Format.Invariant($"runs per burst: {string.Join(", ", filter.RunsPerBurst)}"),
                filter.RunsPerBurst.All(r => r == 1)));
            checks.Add(new TargetCheck(
                Format.Invariant($"(c) … and every answer of a burst carries the one charge ({filter.Name})"),
                "1 distinct charge per burst",
                Format.Invariant($"distinct charges per burst: {string.Join(", ", filter.DistinctAnswersPerBurst)}"),
                filter.DistinctAnswersPerBurst.All(d => d == 1)));
        }

        return checks;
    }

    /// <summary>The rows of the results table: scenario, contender and what was measured.</summary>
    public IReadOnlyList<string[]> Rows()
    {
        var plain = throughput.Plain;
        var rows = new List<string[]>
        {
            Throughput("(a)", plain, plain),
            Throughput("(a)", throughput.NewKeys, plain),
            Throughput("(b)", throughput.Replays, plain),
            Throughput("(a')", throughput.PlainEmpty, throughput.PlainEmpty),
            Throughput("(a')", throughput.NewKeysEmpty, throughput.PlainEmpty),
        };
        // The bursts come in pairs, the filter on a store and then the hand-written guard on the same kind of storage.
        for (var i = 0; i < bursts.Count; i++)
        {
            var burst = bursts[i];
            var timings = burst.Timings;
            var guard = IsGuard(burst) ? burst : i + 1 < bursts.Count ? bursts[i + 1] : null;
            rows.Add(
            [
                "(c)",
                burst.Name,
                Format.Number(timings.Requests),
                Format.Invariant($"{burst.MedianBurstMs:0.0} ms per burst"),
                Format.Invariant($"{timings.Percentile(50):0.00}"),
                Format.Invariant($"{timings.Percentile(99):0.00}"),
                Format.Invariant($"{burst.RunsPerBurst.Sum()} ({string.Join(", ", burst.RunsPerBurst)})"),
                guard is null ? "n/a" : Format.Ratio(timings.Percentile(99) / guard.Timings.Percentile(99)),
            ]);
        }

        return rows;
    }

    /// <summary>The rows of the cost table: what the new-key rounds of (a) and (a') cost the whole process.</summary>
    public IReadOnlyList<string[]> CostRows() =>
    [
        Cost("(a)", throughput.Plain, throughput.Plain),
        Cost("(a)", throughput.NewKeys, throughput.Plain),
        Cost("(a')", throughput.PlainEmpty, throughput.PlainEmpty),
        Cost("(a')", throughput.NewKeysEmpty, throughput.PlainEmpty),
        InProcessCost("without the filter, in process, one thread", inProcess.PlainWall, inProcess.PlainCpu),
        InProcessCost("filter, a new key each request, in process, one thread", inProcess.FilteredWall, inProcess.FilteredCpu),
    ];

    /// <summary>The page.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("# HTTP benchmark: idempotent endpoints on Kestrel\n\n");
        RunSections.AppendProvenance(md, run);
        md.Append(Format.Invariant($"""
            What the idempotency filter of `JobDedup.AspNetCore` (`.WithIdempotency(…)`, in-memory store) costs and what it
            prevents, measured on real Kestrel at 127.0.0.1 with `HttpClient` from the same process. Each scenario compares
            contenders in the same run, as ratios; every POST carries a small JSON payment and an `Idempotency-Key` header.

            - **(a) overhead**: the cheapest handler (it makes a charge id and answers), without the filter and with it, every
              request a new key so that the handler runs each time; both endpoints get the very same requests, the
              `Idempotency-Key` header included, so the ratio is the filter's cost alone. {options.Concurrency} loops send one request after another;
              {options.Rounds} rounds of at most {options.RoundTime.TotalSeconds:0} s (and {BenchOptions.MaxRequestsPerRound:N0} requests) per contender,
              the contenders taking turns in each round, each pair (without the filter, with it) in the other order every
              other round, so that neither always runs first; the median round counts (the ratio is that of the two
              medians; the ratio of each round's pair is listed under the targets, to show how much rounds differ). "Time per request" is the round's wall-clock
              time divided by its requests at that concurrency: the inverse of throughput. The filter keeps its default window of
              10,000 answers, so once it is full each new answer pushes out the oldest, as in an application left at the defaults.
              Before each round the garbage of the rounds before is collected, so that each round pays for its own: without
              that, the answers the filter let go were collected during the next round, often the endpoint's without the
              filter, which then looked up to a fifth slower than it is (and the filter that much cheaper). Before the first
              round every contender of (a), (a') and (b) is warmed up, a second of each in turn, until one whole cycle of them
              compiles for less than {ThroughputScenario.SettledJitPerCycle.TotalMilliseconds:0} ms in the JIT (at most {ThroughputScenario.MaxWarmUpCycles} cycles; this run: {throughput.WarmUp.Cycles} cycles,
              {throughput.WarmUp.Took.TotalSeconds:0} s, the last compiling for {throughput.WarmUp.LastCycleJit.TotalMilliseconds:0} ms). Tiered compilation goes on for several seconds under
              load, over 1 s of compiling in some 2 s rounds at first, the filter's longer path the most: a round measured
              meanwhile pays for compiling that a running application has long finished.
            - **(a') the same without a body**: both endpoints again, the POSTs carrying no body (nothing to bind, nothing
              to fingerprint), to show how much of (a) is the body's reading and fingerprinting and how much the rest of
              the filter (key, engine, response capture and store). Ratio against the endpoint without the filter and without a body.
            - **(b) replay**: the same loops repeating one key whose answer is stored: the handler never runs (checked), the
              filter answers from the store. Ratio against the endpoint without the filter.
            - **(c) concurrency**: {options.BurstSize} POSTs with one key, built ahead and released at one instant on {options.BurstSize} open
              connections; the handler takes {FormatWork()} (a stand-in for the call to a payment service). {options.Bursts} bursts per
              contender, each on a fresh key, after one unmeasured burst that warms the contender up. The filter with its in-memory store is compared with the guard a user writes
              without it, "look the key up in a table; if absent, run the handler, then insert its answer", in memory (a
              `ConcurrentDictionary`); the filter with its PostgreSQL store with the same guard on PostgreSQL (`SELECT`, then
              `INSERT … ON CONFLICT DO NOTHING`). Both PostgreSQL contenders share one pool of 10 connections. Handler runs are
              counted per key by the handler itself; the ratio is the p99 against the guard's on the same storage;
              latencies are per request, over every burst.

            Why a load loop and not BenchmarkDotNet: the questions are about a real server under concurrent requests (a
            throughput ratio, how many runs a burst causes, its p99), which BenchmarkDotNet's one-operation-at-a-time harness
            does not measure; a bounded loop in count and time also keeps the whole run under three minutes. The client and
            the server share the machine's cores, so each ratio includes the client's cost on both sides.


            """));
        md.Append("## Results\n\n");
        MarkdownTable.Append(md, Header, Rows(), numericFrom: 2);
        md.Append(Format.Invariant($"""
            What the rounds of (a) and (a') cost the whole process (client and server), medians over the rounds: processor
            time per request (every thread, and the kernel's work for the process: on {Environment.ProcessorCount} cores at most {Environment.ProcessorCount} times the
            wall-clock time per request), thread-pool work items per request, and the jobs the engine queued for its
            dispatcher per 1,000 requests (a request that finds the dispatcher deciding for another one queues its job,
            which then runs through the thread pool, instead of deciding for itself; the count comes from the engine's
            queue depth, which the benchmark turns on by listening to it). **(d)** is the same cheap
            endpoint's request delegate called in process, one request after another on one thread, each with a new
            `DefaultHttpContext` and a new key and its body in a pipe that has all of it, {inProcess.Rounds} rounds of {inProcess.RequestsPerRound:N0} requests
            each (after 3 unmeasured): no server, no client, nothing else running, so its difference is what the layer costs
            on a thread, which the rounds of (a) multiply.


            """));
        MarkdownTable.Append(md, CostHeader, CostRows(), numericFrom: 2);
        md.Append(Format.Invariant($"Failed requests: {throughput.Plain.Failures + throughput.NewKeys.Failures + throughput.PlainEmpty.Failures + throughput.NewKeysEmpty.Failures + throughput.Replays.Failures} in (a), (a') and (b), {bursts.Sum(b => b.Timings.Failures)} in (c). Of 100 replays sent after (b), {throughput.ReplayMarked} carried the filter's replay header.\n\n"));
        TargetReport.AppendMarkdown(md, Targets());
        md.Append(Format.Invariant($"Round by round, the filter's time per request in (a) against the endpoint's without it in the same round: {RoundRatios(throughput.NewKeys, throughput.Plain)}; in (a'): {RoundRatios(throughput.NewKeysEmpty, throughput.PlainEmpty)}.\n\n"));
        RunSections.AppendMachine(md, run, "Client and server ran in one process; other engineers' builds and tests ran on the same 2 cores during the run, so the load average above is part of the result.");
        RunSections.AppendCommand(md, run);
        return md.ToString();
    }

    /// <summary>Each round's ratio of <paramref name="phase"/> to <paramref name="baseline"/>, in round order.</summary>
    private static string RoundRatios(Phase phase, Phase baseline) =>
        string.Join(", ", phase.Rounds.Zip(baseline.Rounds, (p, b) => Format.Ratio(p.MicrosecondsPerRequest / b.MicrosecondsPerRequest)));

    /// <summary>Writes the table and the targets to the console.</summary>
    public void WriteConsole(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine();
        output.Write(TextTable.Render(Header, Rows()));
        output.WriteLine();
        output.Write(TextTable.Render(CostHeader, CostRows()));
        output.WriteLine();
        TargetReport.WriteConsole(output, Targets());
    }

    private static readonly string[] Header = ["scenario", "contender", "requests", "req/s or time", "p50 ms", "p99 ms", "handler runs", "ratio"];

    private static readonly string[] CostHeader = ["scenario", "contender", "wall µs per request", "processor µs per request", "processor ratio", "work items per request", "queued per 1,000"];

    private static string[] Cost(string scenario, Phase phase, Phase baseline) =>
    [
        scenario,
        phase.Name,
        Format.Invariant($"{phase.MicrosecondsPerRequest:0.0}"),
        Format.Invariant($"{phase.CpuMicrosecondsPerRequest:0.0}"),
        Format.Ratio(phase.CpuMicrosecondsPerRequest / baseline.CpuMicrosecondsPerRequest),
        Format.Invariant($"{phase.WorkItemsPerRequest:0.00}"),
        Format.Invariant($"{phase.QueuedPerThousand:0.0}"),
    ];

    private string[] InProcessCost(string name, double wall, double cpu) =>
    [
        "(d)",
        name,
        Format.Invariant($"{wall:0.0}"),
        Format.Invariant($"{cpu:0.0}"),
        Format.Ratio(cpu / inProcess.PlainCpu),
        "n/a",
        "n/a",
    ];

    private static bool IsGuard(BurstResult burst) => burst.Name.StartsWith("guard", StringComparison.Ordinal);

    private static string[] Throughput(string scenario, Phase phase, Phase baseline) =>
    [
        scenario,
        phase.Name,
        Format.Number(phase.Requests),
        Format.Invariant($"{phase.PerSecond:N0}/s, {phase.MicrosecondsPerRequest:0.0} µs"),
        Format.Invariant($"{phase.Percentile(50):0.00}"),
        Format.Invariant($"{phase.Percentile(99):0.00}"),
        phase.Name.Contains("replays", StringComparison.Ordinal) ? "0" : Format.Number(phase.Requests),
        Format.Ratio(phase.MicrosecondsPerRequest / baseline.MicrosecondsPerRequest),
    ];

    private static string FormatWork() => Format.Time(Server.ChargeWork.Work.TotalMilliseconds * 1e6);
}
