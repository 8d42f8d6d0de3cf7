using JobDedup.Concurrency.Tests.Support;
using Microsoft.Coyote.Runtime;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.JobDeduplicators;

/// <summary>
/// One handler run per key at any moment, and one outcome for every caller, under schedules Coyote picks: callers
/// arriving together, callers canceled from another task, and a caller leaving while its handler still blocks.
/// </summary>
public sealed class OneRunPerKeyTests(ITestOutputHelper output)
{
    [Fact]
    public void EnqueueAsync_ConcurrentCallersOfOneKey_RunOneHandlerAtATimeAndAnswerEveryCaller() =>
        ScheduleExploration.Explore(output, nameof(EnqueueAsync_ConcurrentCallersOfOneKey_RunOneHandlerAtATimeAndAnswerEveryCaller), seed: 1101, async () =>
        {
            var ledger = new RunLedger();
            var deduplicator = new JobDeduplicator<int, int>(
                async (job, context, token) => await ledger.CountAsync(context.Key),
                Callers.Options());

            var outcomes = await Task.WhenAll(new[]
            {
                Callers.Enqueue(deduplicator, "k", 1),
                Callers.Enqueue(deduplicator, "k", 2),
                Callers.Enqueue(deduplicator, "k", 3),
                Callers.Enqueue(deduplicator, "j", 4),
            });
            await deduplicator.DisposeAsync();

            ledger.AssertOneRunAtATime();
            for (var i = 0; i < outcomes.Length; i++)
            {
                Callers.AssertOutcome(outcomes[i], i < 3 ? "k" : "j", ledger.Runs, mayBeCanceled: false);
            }

            Callers.AssertOneLeaderPerRun(outcomes);
        });

    [Fact]
    public void EnqueueAsync_CallersCanceledFromAnotherTask_EachGetsOneOutcomeAndRunsNeverOverlap() =>
        ScheduleExploration.Explore(output, nameof(EnqueueAsync_CallersCanceledFromAnotherTask_EachGetsOneOutcomeAndRunsNeverOverlap), seed: 1102, async () =>
        {
            var ledger = new RunLedger();

            // The handler does not watch its token, as many real ones do not: it ends when its work ends.
            var deduplicator = new JobDeduplicator<int, int>(
                async (job, context, token) => await ledger.CountAsync(context.Key),
                Callers.Options());
            using var first = new CancellationTokenSource();
            using var third = new CancellationTokenSource();

            var callers = new[]
            {
                Callers.Enqueue(deduplicator, "k", 1, first.Token),
                Callers.Enqueue(deduplicator, "k", 2),
                Callers.Enqueue(deduplicator, "k", 3, third.Token),
            };
            var canceler = Task.Run(async () =>
            {
                first.Cancel();
                SchedulingPoint.Interleave();
                third.Cancel();
            });
            var late = Task.Run(async () =>
            {
                await canceler;
                return await deduplicator.EnqueueAsync("k", 4);
            });
            await canceler;
            var outcomes = await Task.WhenAll(new[] { callers[0], callers[1], callers[2], late });
            await deduplicator.DisposeAsync();

            ledger.AssertOneRunAtATime();
            Callers.AssertOutcome(outcomes[0], "k", ledger.Runs, mayBeCanceled: true);
            Callers.AssertOutcome(outcomes[1], "k", ledger.Runs, mayBeCanceled: false);
            Callers.AssertOutcome(outcomes[2], "k", ledger.Runs, mayBeCanceled: true);
            Callers.AssertOutcome(outcomes[3], "k", ledger.Runs, mayBeCanceled: false);
            Callers.AssertOneLeaderPerRun(outcomes);
        });

    /// <summary>
    /// The handler is still in its synchronous part (a blocking call) when its only caller leaves; the next arrival
    /// must wait for that run to end rather than start a second run beside it.
    /// </summary>
    [Fact]
    public void EnqueueAsync_OnlyCallerLeavesWhileHandlerBlocks_NextArrivalDoesNotRunBesideIt() =>
        ScheduleExploration.Explore(output, nameof(EnqueueAsync_OnlyCallerLeavesWhileHandlerBlocks_NextArrivalDoesNotRunBesideIt), seed: 1103, async () =>
        {
            var ledger = new RunLedger();
            var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var deduplicator = new JobDeduplicator<int, int>(
                (job, context, token) =>
                {
                    var run = ledger.Enter(context.Key);
                    try
                    {
                        entered.TrySetResult();

                        // Blocks up to 10 steps, ignoring the token; ends early only once an overlap is already seen.
                        BlockingCall.Run(steps: 10, () => ledger.Violation is not null);
                        return ValueTask.FromResult(run);
                    }
                    finally
                    {
                        ledger.Exit(context.Key);
                    }
                },
                Callers.Options());
            using var leaving = new CancellationTokenSource();

            var only = Callers.Enqueue(deduplicator, "k", 1, leaving.Token);
            var next = Task.Run(async () =>
            {
                await entered.Task;
                leaving.Cancel();
                return await deduplicator.EnqueueAsync("k", 2);
            });
            var outcomes = await Task.WhenAll(new[] { only, next });
            await deduplicator.DisposeAsync();

            ledger.AssertOneRunAtATime();
            Callers.AssertOutcome(outcomes[0], "k", ledger.Runs, mayBeCanceled: true);
            Callers.AssertOutcome(outcomes[1], "k", ledger.Runs, mayBeCanceled: false);
        });
}
