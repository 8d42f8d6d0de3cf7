using System.Collections.Concurrent;
using JobDedup.Concurrency.Tests.Support;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.JobDeduplicators;

/// <summary>
/// Under <see cref="DuplicatePolicy.KeepLatest"/>, whatever the schedule: one handler run per key at a time, every
/// caller's outcome comes from a run that started after the caller arrived (no trigger is lost), and the last
/// arrival's job is run.
/// </summary>
public sealed class KeepLatestTests(ITestOutputHelper output)
{
    [Fact]
    public void EnqueueAsync_KeepLatestArrivalsDuringRuns_RunOneAtATimeAndTheLastArrivalsJobRunsAfterIt() =>
        ScheduleExploration.Explore(output, nameof(EnqueueAsync_KeepLatestArrivalsDuringRuns_RunOneAtATimeAndTheLastArrivalsJobRunsAfterIt), seed: 1601, async () =>
        {
            var ledger = new RunLedger();
            var starts = new ConcurrentDictionary<int, (int Job, long At)>();
            long clock = 0;
            var options = Callers.Options();
            options.OnDuplicate = DuplicatePolicy.KeepLatest;
            var deduplicator = new JobDeduplicator<int, int>(
                async (job, context, token) =>
                {
                    var run = ledger.Enter(context.Key);
                    try
                    {
                        starts[run] = (job, Interlocked.Increment(ref clock));
                        await Task.Yield();
                        SchedulingPoint.Interleave();
                        await Task.Yield();
                        return run;
                    }
                    finally
                    {
                        ledger.Exit(context.Key);
                    }
                },
                options);

            // One task issues the arrivals in order (the queue keeps it), with scheduling points between them, so
            // the runs and the dispatcher interleave with the arrivals wherever the schedule puts them.
            const int Arrivals = 4;
            var arrived = new long[Arrivals];
            var pending = new ValueTask<JobOutcome<int>>[Arrivals];
            for (var i = 0; i < Arrivals; i++)
            {
                arrived[i] = Interlocked.Increment(ref clock);
                pending[i] = deduplicator.EnqueueAsync("k", i + 1);
                SchedulingPoint.Interleave();
            }

            var outcomes = new JobOutcome<int>[Arrivals];
            for (var i = 0; i < Arrivals; i++)
            {
                outcomes[i] = await pending[i];
            }

            await deduplicator.DisposeAsync();

            ledger.AssertOneRunAtATime();
            for (var i = 0; i < Arrivals; i++)
            {
                Specification.Assert(outcomes[i].Status == JobStatus.Succeeded, "arrival {0} ended {1}", i + 1, outcomes[i].Status);
                Specification.Assert(starts.TryGetValue(outcomes[i].Value, out var start), "arrival {0} got the value of no run", i + 1);
                Specification.Assert(
                    start.At > arrived[i],
                    "arrival {0} got the outcome of run {1}, which started before it arrived: its trigger was lost",
                    i + 1,
                    outcomes[i].Value);
            }

            var last = starts[outcomes[Arrivals - 1].Value];
            Specification.Assert(last.Job == Arrivals, "the last arrival's run ran job {0}, not the last arrival's", last.Job);
        });
}
