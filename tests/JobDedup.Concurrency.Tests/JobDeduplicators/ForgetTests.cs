using JobDedup.Concurrency.Tests.Support;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.JobDeduplicators;

/// <summary>
/// <c>Forget</c> never resurrects a forgotten outcome: an arrival that calls after <c>Forget</c> returned never gets,
/// joined or replayed, a value produced before <c>Forget</c> began, whichever way the dedupe window's slow saves land.
/// </summary>
public sealed class ForgetTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The first run's save is still in progress when <c>Forget</c> is called; the next arrival runs and saves; then
    /// the old save lands. A late duplicate must not replay the forgotten value.
    /// </summary>
    [Fact]
    public void Forget_DuringAnInProgressSave_NoLaterArrivalReplaysTheForgottenValue() =>
        ScheduleExploration.Explore(output, nameof(Forget_DuringAnInProgressSave_NoLaterArrivalReplaysTheForgottenValue), seed: 1201, async () =>
        {
            var timeline = new ForgetTimeline();
            var store = new SlowSaveStore<int>(saveSteps: 20);
            var runs = 0;
            var deduplicator = new JobDeduplicator<int, int>(
                (job, context, token) =>
                {
                    var run = Interlocked.Increment(ref runs);
                    timeline.Produced(run);
                    return ValueTask.FromResult(run);
                },
                Callers.Options(Retention),
                outcomeStore: store);

            var first = Callers.Enqueue(deduplicator, "k", 1);
            var later = Task.Run(async () =>
            {
                await store.FirstSaveStarted;
                timeline.Forget(deduplicator, "k");
                var arrivals = new List<(long Arrived, JobOutcome<int> Outcome)>();
                for (var job = 2; job <= 4; job++)
                {
                    var arrived = timeline.Tick();
                    arrivals.Add((arrived, await deduplicator.EnqueueAsync("k", job)));
                    SchedulingPoint.Interleave();
                }

                return arrivals;
            });

            await first;
            var outcomes = await later;
            await deduplicator.DisposeAsync();
            foreach (var (arrived, outcome) in outcomes)
            {
                Callers.AssertOutcome(outcome, "k", runs, mayBeCanceled: false);
                var resurrection = timeline.Resurrection(arrived, outcome);
                Specification.Assert(resurrection is null, "Forget resurrected a forgotten outcome: {0}", resurrection ?? string.Empty);
            }
        });

    [Fact]
    public void Forget_RacingCallersAndSaves_NeverResurrectsAForgottenOutcome() =>
        ScheduleExploration.Explore(output, nameof(Forget_RacingCallersAndSaves_NeverResurrectsAForgottenOutcome), seed: 1202, async () =>
        {
            var timeline = new ForgetTimeline();
            var store = new SlowSaveStore<int>(saveSteps: 3);
            var runs = 0;
            var deduplicator = new JobDeduplicator<int, int>(
                async (job, context, token) =>
                {
                    var run = Interlocked.Increment(ref runs);
                    await Task.Yield();
                    timeline.Produced(run);
                    return run;
                },
                Callers.Options(Retention),
                outcomeStore: store);

            async Task<(long Arrived, JobOutcome<int> Outcome)> Arrive(int job)
            {
                var arrived = timeline.Tick();
                return (arrived, await deduplicator.EnqueueAsync("k", job));
            }

            var arrivals = new[]
            {
                Task.Run(() => Arrive(1)),
                Task.Run(() => Arrive(2)),
                Task.Run(async () =>
                {
                    timeline.Forget(deduplicator, "k");
                    return await Arrive(3);
                }),
                Task.Run(async () =>
                {
                    var before = await Arrive(4);
                    timeline.Forget(deduplicator, "k");
                    SchedulingPoint.Interleave();
                    return before;
                }),
                Task.Run(() => Arrive(5)),
            };
            var outcomes = await Task.WhenAll(arrivals);
            await deduplicator.DisposeAsync();
            foreach (var (arrived, outcome) in outcomes)
            {
                Callers.AssertOutcome(outcome, "k", runs, mayBeCanceled: false);
                var resurrection = timeline.Resurrection(arrived, outcome);
                Specification.Assert(resurrection is null, "Forget resurrected a forgotten outcome: {0}", resurrection ?? string.Empty);
            }
        });
}
