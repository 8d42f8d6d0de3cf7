using JobDedup.Bench.Reporting.Machine;
using JobDedup.Bench.Reporting.Targets;
using JobDedup.RabbitMqBench.Measuring;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>Everything the console table, rabbitmq.md and rabbitmq.svg show, computed once from the runs.</summary>
internal sealed class BenchReport
{
    public const double RawTarget = 0.95;
    public const double MassTransitTarget = 2.0;

    /// <summary>Without duplicates, the least share of the batched raw consumer's msg/s: it acks after each outcome, as this one must.</summary>
    public const double BatchedRawTarget = 0.9;

    /// <summary>Without duplicates, the most bytes allocated per message, as a multiple of the batched raw consumer's.</summary>
    public const double BatchedRawBytesTarget = 2.0;

    public BenchReport(
        RunInfo run,
        string rabbitMq,
        BenchOptions options,
        bool seesBroker,
        IReadOnlyList<Scenario> scenarios,
        IReadOnlyList<RunResult> results)
    {
        Run = run;
        RabbitMq = rabbitMq;
        Options = options;
        SeesBroker = seesBroker;
        Summaries = [.. scenarios.Select(s => new ScenarioSummary(s, [.. results.Where(r => r.Consumer == s.Id)]))];
        Raw = Summaries.Single(s => s.Scenario.IsBaseline);
        MassTransit = Summaries.Single(s => s.Scenario.Id == "masstransit");
        BatchedRaw = Summaries.SingleOrDefault(s => s.Scenario.IsReference);
        RoundsRun = Summaries.Max(s => s.Rounds.Count);
        Targets = [.. Summaries.Where(s => s.Scenario.IsSubject).SelectMany(Check)];
    }

    /// <summary>Gets the machine, commit, command and times of the run.</summary>
    public RunInfo Run { get; }

    /// <summary>Gets the broker's product and version, as it announced itself on connecting.</summary>
    public string RabbitMq { get; }

    public BenchOptions Options { get; }

    public bool SeesBroker { get; }

    public IReadOnlyList<ScenarioSummary> Summaries { get; }

    public ScenarioSummary Raw { get; }

    public ScenarioSummary MassTransit { get; }

    /// <summary>Gets the raw consumer acking once per several deliveries (<c>multiple: true</c>), shown for reference.</summary>
    public ScenarioSummary? BatchedRaw { get; }

    public int RoundsRun { get; }

    public IReadOnlyList<TargetCheck> Targets { get; }

    public double? RatioToRaw(ScenarioSummary summary) => RatioOf(summary, Raw);

    public double? RatioToMassTransit(ScenarioSummary summary) => RatioOf(summary, MassTransit);

    /// <summary>The columns of the results table, shared by the console and the markdown.</summary>
    public static IReadOnlyList<string> Header =>
    [
        "consumer", "messages", "distinct keys", "handler calls", "msg/s", "vs raw", "vs MassTransit",
        "client CPU/msg", "broker CPU/msg", "allocated/msg", "GCs (0/1/2)", "machine busy", "other processes",
    ];

    public IEnumerable<string[]> Rows()
    {
        foreach (var summary in Summaries)
        {
            var run = summary.Median;
            if (!summary.Ok)
            {
                yield return [summary.Scenario.Label, Invariant($"{run.Messages:N0}"), Invariant($"{run.DistinctKeys:N0}"), Invariant($"{run.Handled:N0}"), "failed: " + (run.Failure ?? "?"), "", "", "", "", "", "", "", ""];
                continue;
            }

            yield return
            [
                summary.Scenario.Label,
                Invariant($"{run.Messages:N0}"),
                Invariant($"{run.DistinctKeys:N0}"),
                Invariant($"{run.Handled:N0}"),
                Invariant($"{summary.Rate:N0}"),
                Ratio(RatioToRaw(summary)),
                Ratio(RatioToMassTransit(summary)),
                Invariant($"{run.ClientCpuMicros:0.0} µs"),
                run.BrokerCpuMicros is { } broker ? Invariant($"{broker:0.0} µs") : "n/a",
                Invariant($"{run.AllocatedPerMessage:N0} B"),
                Invariant($"{run.Gen0}/{run.Gen1}/{run.Gen2}"),
                Share(run.MachineBusyShare),
                Share(run.OtherCpuShare),
            ];
        }
    }

    private static double? RatioOf(ScenarioSummary summary, ScenarioSummary reference) =>
        summary.Ok && reference.Ok && reference.Rate > 0 ? summary.Rate / reference.Rate : null;

    private IEnumerable<TargetCheck> Check(ScenarioSummary subject)
    {
        var label = subject.Scenario.Label;
        yield return TargetCheck.AtLeast(Invariant($"{label} vs raw RabbitMQ.Client"), "the raw consumer's msg/s", RawTarget, RatioToRaw(subject), why: Explain(subject, Raw));
        yield return TargetCheck.AtLeast(Invariant($"{label} vs MassTransit"), "MassTransit's msg/s", MassTransitTarget, RatioToMassTransit(subject), why: Explain(subject, MassTransit));
        if (subject.Scenario.DuplicatePercent != 0 || BatchedRaw is not { } batched)
        {
            yield break;
        }

        // The floor of any consumer that acks only after a message's outcome is known: the raw consumer acking in batches.
        var batchedLabel = batched.Scenario.Label;
        yield return TargetCheck.AtLeast(Invariant($"{label} vs {batchedLabel}"), "its msg/s", BatchedRawTarget, RatioOf(subject, batched), why: Explain(subject, batched));
        double? bytes = subject.Ok && batched.Ok && batched.Median.AllocatedPerMessage > 0
            ? (double)subject.Median.AllocatedPerMessage / batched.Median.AllocatedPerMessage
            : null;
        yield return TargetCheck.AtMost(
            Invariant($"{label} vs {batchedLabel}, bytes allocated per message"),
            "its bytes per message",
            BatchedRawBytesTarget,
            bytes,
            measured: bytes is null ? null : Invariant($"{subject.Median.AllocatedPerMessage:N0} B against {batched.Median.AllocatedPerMessage:N0} B ({bytes:0.00}x)"),
            why: Explain(subject, batched));
    }

    /// <summary>Says, from the measurements only, how the subject's run differed from the reference's.</summary>
    private static string Explain(ScenarioSummary subject, ScenarioSummary reference)
    {
        if (!subject.Ok || !reference.Ok)
        {
            return "a run failed: " + (subject.Median.Failure ?? reference.Median.Failure);
        }

        var s = subject.Median;
        var r = reference.Median;
        var text = new System.Text.StringBuilder(Invariant(
            $"{subject.Rate:N0} against {reference.Rate:N0} msg/s. Per message, the consumer's process used {s.ClientCpuMicros:0.0} µs of CPU against {r.ClientCpuMicros:0.0} µs and allocated {s.AllocatedPerMessage:N0} B against {r.AllocatedPerMessage:N0} B"));
        if (s.BrokerCpuMicros is { } broker && r.BrokerCpuMicros is { } referenceBroker)
        {
            text.Append(Invariant($"; the broker used {broker:0.0} µs against {referenceBroker:0.0} µs"));
        }

        text.Append('.');
        if (Math.Max(s.OtherCpuShare ?? 0, r.OtherCpuShare ?? 0) >= 0.05)
        {
            text.Append(Invariant($" Other processes took {Share(s.OtherCpuShare)} and {Share(r.OtherCpuShare)} of the machine's CPU during these two runs: part of the gap may be noise."));
        }

        if (subject.Rounds.Count > 1)
        {
            text.Append(Invariant($" Over {subject.Rounds.Count} rounds: {subject.MinRate:N0}–{subject.MaxRate:N0} against {reference.MinRate:N0}–{reference.MaxRate:N0} msg/s."));
        }

        return text.ToString();
    }

    /// <summary>Observations across the runs that bear on the targets, each computed from the measurements.</summary>
    public IEnumerable<string> Findings()
    {
        if (!Raw.Ok)
        {
            yield break;
        }

        var raw = Raw.Median;
        if (raw.BrokerCpuMicros is { } rawBroker)
        {
            yield return Invariant(
                $"The broker does most of the work: with the raw consumer it used {rawBroker:0.0} µs of CPU per message, against {raw.ClientCpuMicros:0.0} µs in the consumer's process, and the machine was {Share(raw.MachineBusyShare)} busy. The consumer's process and the broker share the {Run.Machine.Nproc} cores, so CPU a consumer spends per message competes with the broker's.");
        }

        if (MassTransit.Ok && RatioToMassTransit(Raw) is { } ceiling)
        {
            yield return Invariant(
                $"The raw consumer, which only acks, reached {ceiling:0.00}x MassTransit. {MassTransitTarget:0.0}x MassTransit is {MassTransitTarget * MassTransit.Rate:N0} msg/s, {MassTransitTarget * MassTransit.Rate / Raw.Rate:0.00}x what the raw consumer reached with one ack per delivery.");
        }

        if (BatchedRaw is { Ok: true } batched && batched.Median.BrokerCpuMicros is { } batchedBroker && raw.BrokerCpuMicros is { } broker)
        {
            var every = ((Consumers.RawConsumer)batched.Scenario.Consumer).AckEvery;
            yield return Invariant(
                $"Fewer acks: acking once per {every} deliveries (multiple: true) took the raw consumer from {Raw.Rate:N0} to {batched.Rate:N0} msg/s ({batched.Rate / Raw.Rate:0.00}x), the broker from {broker:0.0} to {batchedBroker:0.0} µs of CPU per message and the consumer's process from {raw.ClientCpuMicros:0.0} to {batched.Median.ClientCpuMicros:0.0} µs. The JobDedup consumer coalesces its acks the same way: one multiple ack for the ready deliveries from the oldest outstanding one up.");
        }

        foreach (var subject in Summaries.Where(x => x.Scenario.IsSubject && x.Ok))
        {
            var run = subject.Median;
            yield return Invariant(
                $"{subject.Scenario.Label}: {run.Handled:N0} handler runs for {run.Messages:N0} messages ({run.DistinctKeys:N0} distinct keys); {run.ClientCpuMicros:0.0} µs of CPU and {run.AllocatedPerMessage:N0} B allocated per message in the consumer's process, against {raw.ClientCpuMicros:0.0} µs and {raw.AllocatedPerMessage:N0} B for the raw consumer; {run.Gen0} gen-0 collections against {raw.Gen0}.");
        }
    }
}
