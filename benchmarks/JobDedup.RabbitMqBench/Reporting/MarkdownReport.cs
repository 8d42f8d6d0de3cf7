using System.Text;
using JobDedup.RabbitMq;
using JobDedup.RabbitMqBench.Workload;
using JobDedup.Bench.Reporting.Markdown;
using JobDedup.Bench.Reporting.Targets;
using static JobDedup.Bench.Reporting.Format;

namespace JobDedup.RabbitMqBench.Reporting;

/// <summary>Writes docs/benchmarks/rabbitmq.md from one run: nothing in it is typed by hand.</summary>
internal static class MarkdownReport
{
    public static string Render(BenchReport report, string chartFile)
    {
        var o = report.Options;
        var run = report.Run;
        var m = run.Machine;
        var jobDedupDefaults = new JobDedupOptions<BenchJob>();
        var consumerDefaults = new RabbitMqConsumerOptions<BenchJob, string>();
        var sample = new MessageSet(o.Messages, 90, o.BodyBytes);
        var text = new StringBuilder();
        text.AppendLine("# RabbitMQ consumer throughput: raw RabbitMQ.Client, JobDedup, MassTransit");
        text.AppendLine();
        RunSections.AppendProvenance(text, run);
        text.AppendLine(Invariant($"**Noisy numbers.** The machine has {m.Nproc} cores, shared by the broker, this benchmark and whatever else runs there (other builds and test runs may run at the same time). Load average (1/5/15 min) was {run.LoadAtStart} before and {run.LoadAtEnd} after. The column *other processes* says how much of the machine's CPU went to neither this process nor the broker during each run. Read the ratios, and run again before trusting a difference of a few percent."));
        text.AppendLine();
        text.AppendLine(Invariant($"![Messages per second per consumer]({chartFile})"));
        text.AppendLine();

        TargetReport.AppendMarkdown(text, report.Targets);
        var findings = report.Findings().ToArray();
        if (findings.Length > 0)
        {
            text.AppendLine("## What the measurements show");
            text.AppendLine();
            foreach (var finding in findings)
            {
                text.AppendLine("- " + finding);
            }
        }

        text.AppendLine();
        text.AppendLine("## Results");
        text.AppendLine();
        text.AppendLine(report.RoundsRun > 1
            ? Invariant($"msg/s is the median of {report.RoundsRun} rounds per consumer (every round is listed below); the ratios are ratios of medians; the other columns are from the round whose msg/s is closest to the median (the earlier one on a tie).")
            : "One measured round per consumer.");
        if (report.BatchedRaw is { } batched)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"*{batched.Scenario.Label}* is the raw consumer again, acking every {((Consumers.RawConsumer)batched.Scenario.Consumer).AckEvery}th delivery with `multiple: true` (and the last one): the floor of a consumer that acks only after each outcome, which the JobDedup consumer without duplicates is held to (msg/s and bytes per message)."));
        }
        text.AppendLine();
        MarkdownTable.Append(text, BenchReport.Header, report.Rows());

        if (report.RoundsRun > 1)
        {
            text.AppendLine("### Every round");
            text.AppendLine();
            var perRound = report.Summaries.SelectMany(s => s.Rounds.Select(r => new[]
            {
                s.Scenario.Label,
                Invariant($"{r.Round}"),
                r.Ok ? Invariant($"{r.MessagesPerSecond:N0}") : "failed",
                r.Ok ? Invariant($"{r.Elapsed.TotalSeconds:0.00} s") : r.Failure ?? string.Empty,
                Share(r.OtherCpuShare),
            }));
            MarkdownTable.Append(text, ["consumer", "round", "msg/s", "time", "other processes"], perRound);
        }

        text.AppendLine("## Method");
        text.AppendLine();
        text.AppendLine(Invariant($"- Broker: {report.RabbitMq} at `{BenchQueues.Redact(o.Uri)}`, on the same machine as the consumers."));
        text.AppendLine(Invariant($"- Messages: {o.Messages:N0} per measured run. Each is a JSON body of {o.BodyBytes} bytes (`{{\"id\":…,\"key\":…,\"padding\":…}}`, read as a `BenchJob` record), content type `application/json`, not persistent (delivery mode 1) in a durable classic queue, no headers; its dedupe key, a GUID string, is the message id property (the way a webhook provider's redelivery keeps its event id)."));
        text.AppendLine(Invariant($"- Duplicates: at 0% every message has its own key. At 90%, {sample.GroupSize} consecutive messages share a key ({sample.DistinctKeys:N0} distinct keys for {o.Messages:N0} messages), so duplicates arrive within one prefetch window and can join one flight. *Handler calls* counts the handler runs that resulted."));
        text.AppendLine(Invariant($"- Each run: its queue is deleted and declared anew, then filled with publisher confirms in batches of 5,000 before any consumer starts; publishing is not measured. The consumer then starts. **Measured time: from the first call of the consumer's code (the raw callback, the JobDedup handler, the MassTransit consumer) to the ack of the last message**; msg/s = messages / that time. After the consumer stops, the queue must hold no message and no consumer (a message left unacked would be back in it), or the run fails."));
        text.AppendLine("- Acks are counted where each consumer sends them: the raw consumer after each `BasicAckAsync`; JobDedup by its own metric `jobdedup.rabbitmq.deliveries.settled` (settlement `ack`), which it records after the ack is sent (any other settlement fails the run); MassTransit by a receive observer, whose `PostReceive` it calls after the ack.");
        text.AppendLine(Invariant($"- The same prefetch for every consumer: {o.Prefetch} (per consumer, `basic.qos` with global = false). Each consumer opens its own connection; they run one at a time, in one process, in the order of the table."));
        text.AppendLine("  - **raw RabbitMQ.Client** 7: `AsyncEventingBasicConsumer`, `autoAck: false`, one `BasicAckAsync(tag, multiple: false)` per delivery, nothing else. The ceiling for a consumer that acks each message. The reference row acks with `multiple: true` instead, once per batch of deliveries.");
        text.AppendLine(Invariant($"  - **JobDedup**: a generic host with `AddJobDedup<BenchJob, string>(…).UseHandler(…).AddRabbitMqConsumer(…)`: connection URI, queue and prefetch set; `MaxRetryAttempts = 0` (as MassTransit runs without retries); everything else default (QueueCapacity {jobDedupDefaults.QueueCapacity:N0}, MaxConcurrentHandlers {jobDedupDefaults.MaxConcurrentHandlers}, MaxHeldDuplicatesPerKey {consumerDefaults.MaxHeldDuplicatesPerKey}, key rule: {consumerDefaults.KeyRule.Description}, body read by System.Text.Json, topology declared). The handler counts the call and returns a completed `ValueTask`."));
        text.AppendLine(Invariant($"  - **MassTransit.RabbitMQ** 8.4.0: a generic host with `AddMassTransit`, one receive endpoint on the queue with `PrefetchCount = {o.Prefetch}` and `ConcurrentMessageLimit = {o.Prefetch}`, `ConfigureConsumeTopology = false`, the raw JSON deserializer (`RawSerializerOptions.AnyMessageType`), no retry, no outbox; an `IConsumer<BenchJob>` that counts the call and returns `Task.CompletedTask`."));
        var rounds = Invariant($"{report.RoundsRun} measured round(s) (at most {o.Rounds}; another round starts only if it should end within {o.Budget.TotalSeconds:0} s of the start, judging by the longest round so far)");
        text.AppendLine(o.Warmup > 0
            ? Invariant($"- Warm-up: before measuring, {o.Warmup:N0} messages went through each consumer (JIT, connection pools), unmeasured. Then {rounds}.")
            : Invariant($"- No warm-up; {rounds}."));
        text.AppendLine(Invariant($"- CPU and memory, over the measured time: *client CPU/msg* is this process's CPU time (consumer, client library, GC) per message; *broker CPU/msg* the RabbitMQ node's (`beam.smp`, from /proc){(report.SeesBroker ? string.Empty : "; not measured here: the broker's process was not found on this machine")}; *machine busy* the share of all cores that was busy (/proc/stat); *other processes* the busy share neither this process nor the broker explains. *Allocated/msg* is the process's `GC.GetTotalAllocatedBytes` difference per message; GCs are collections per generation during the run. GC: {m.Gc}."));

        text.AppendLine();
        RunSections.AppendMachine(text, run, Invariant($"RabbitMQ: {report.RabbitMq} (as the broker announces itself on connecting), on the same machine."));
        RunSections.AppendCommand(text, run);
        return text.ToString();
    }
}
