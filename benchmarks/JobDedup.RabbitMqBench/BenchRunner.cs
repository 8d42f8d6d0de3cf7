using System.Diagnostics;
using JobDedup.Bench.Reporting;
using JobDedup.Bench.Reporting.Measuring;
using JobDedup.RabbitMqBench.Measuring;
using JobDedup.RabbitMqBench.Workload;

namespace JobDedup.RabbitMqBench;

/// <summary>Runs one scenario once: fill a fresh queue, consume it while measuring, check it ended empty, delete it.</summary>
internal sealed class BenchRunner(BenchQueues queues, SystemCounters system, BenchOptions options, TextWriter output)
{
    private readonly Progress _progress = new(output, TimeSpan.FromSeconds(1));

    public async Task<RunResult> RunAsync(Scenario scenario, int messageCount, int round, CancellationToken cancellationToken)
    {
        var messages = new MessageSet(messageCount, scenario.DuplicatePercent, options.BodyBytes);
        var publish = await queues.FillAsync(scenario.Queue, scenario.Consumer.QueueArguments, messages, _progress, options.RunTimeout, cancellationToken);
        output.WriteLine($"  published in {publish.TotalSeconds:0.0} s ({messageCount / publish.TotalSeconds:N0} msg/s, not measured)");

        // Garbage from publishing or from the previous run is not this run's.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var counters = new RunCounters(messageCount, system);
        string? failure = null;
        var started = Stopwatch.GetTimestamp();
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        using (_progress.Start($"consuming with {scenario.Label}", messageCount, () => counters.Acked, "acked"))
        {
            deadline.CancelAfter(options.RunTimeout);
            try
            {
                await scenario.Consumer.RunAsync(scenario.Queue, options.Prefetch, counters, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                failure = $"timed out after {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s with {counters.Acked:N0} of {messageCount:N0} acked";
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failure = $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        failure ??= counters.Failure;
        var (left, consumers) = await queues.CountAsync(scenario.Queue, cancellationToken);
        if (failure is null && (left != 0 || consumers != 0))
        {
            failure = $"the queue holds {left:N0} messages and {consumers} consumers after the consumer stopped";
        }

        await queues.DeleteAsync(scenario.Queue, cancellationToken);
        var elapsed = failure is null ? Stopwatch.GetElapsedTime(counters.Start.Timestamp, counters.End.Timestamp) : TimeSpan.Zero;
        var result = new RunResult(
            scenario.Id,
            scenario.DuplicatePercent,
            round,
            messageCount,
            messages.DistinctKeys,
            counters.Acked,
            counters.Handled,
            elapsed,
            publish,
            counters.Start,
            counters.End,
            left,
            failure);
        output.WriteLine(result.Ok
            ? $"  {messageCount:N0} acked in {elapsed.TotalSeconds:0.00} s: {result.MessagesPerSecond:N0} msg/s; {counters.Handled:N0} handler calls; queue empty; " +
                $"CPU per message: client {result.ClientCpuMicros:0.0} µs, broker {result.BrokerCpuMicros:0.0} µs; {result.AllocatedPerMessage:N0} B/msg allocated; {result.TcpSegmentsPerMessage:0.00} TCP segments/msg; other processes {Format.Share(result.OtherCpuShare)}"
            : $"  FAILED: {failure}");
        return result;
    }
}
