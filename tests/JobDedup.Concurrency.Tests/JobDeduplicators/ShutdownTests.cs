using JobDedup.Concurrency.Tests.Support;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.JobDeduplicators;

/// <summary>
/// Shutdown gives every caller an outcome: callers that got in before <c>StopAsync</c> all have one by the time it
/// completes, whether their handler finished or had to be canceled, and a caller after it is refused at once.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public void StopAsync_RacingCallersOfFinishingHandlers_GivesEveryCallerAnOutcome() =>
        ScheduleExploration.Explore(output, nameof(StopAsync_RacingCallersOfFinishingHandlers_GivesEveryCallerAnOutcome), seed: 1301, () => StopRacingCallers(
            async (ledger, job, context, token) => await ledger.CountAsync(context.Key)));

    [Fact]
    public void StopAsync_RacingCallersOfHandlersThatWaitForTheirToken_GivesEveryCallerAnOutcome() =>
        ScheduleExploration.Explore(output, nameof(StopAsync_RacingCallersOfHandlersThatWaitForTheirToken_GivesEveryCallerAnOutcome), seed: 1302, () => StopRacingCallers(
            async (ledger, job, context, token) => await ledger.CountAsync(context.Key, async () =>
            {
                // Runs until shutdown gives up on it and fires the token.
                var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var registration = token.Register(() => fired.TrySetResult());
                await fired.Task;
                registration.Unregister();
                token.ThrowIfCancellationRequested();
            })));

    private static async Task StopRacingCallers(Func<RunLedger, int, JobContext, CancellationToken, ValueTask<int>> handler)
    {
        var ledger = new RunLedger();
        var deduplicator = new JobDeduplicator<int, int>((job, context, token) => handler(ledger, job, context, token), Callers.Options());

        long clock = 0;
        long stopCalled = long.MaxValue;

        // Each caller either gets in (an outcome task, and when) or is refused at the door (ObjectDisposedException).
        async Task<(long AdmittedAt, Task<JobOutcome<int>>? Pending)> Arrive(string key, int job)
        {
            await Task.Yield();
            try
            {
                var pending = deduplicator.EnqueueAsync(key, job).AsTask();
                return (Interlocked.Increment(ref clock), pending);
            }
            catch (ObjectDisposedException)
            {
                return (0, null);
            }
        }

        var arrivals = new[]
        {
            Task.Run(() => Arrive("k", 1)),
            Task.Run(() => Arrive("k", 2)),
            Task.Run(() => Arrive("j", 3)),
        };
        var stop = Task.Run(async () =>
        {
            SchedulingPoint.Interleave();
            Interlocked.Exchange(ref stopCalled, Interlocked.Increment(ref clock));
            await deduplicator.StopAsync();
        });
        await stop;
        var admitted = await Task.WhenAll(arrivals);
        var waiting = admitted
            .Select(static (arrival, caller) => (arrival.AdmittedAt, arrival.Pending, Caller: caller + 1))
            .Where(a => a.Pending is { IsCompleted: false } && a.AdmittedAt < stopCalled)
            .ToList();
        foreach (var (admittedAt, pending, caller) in waiting)
        {
            // Named with what it got in the end, so that the report tells a late outcome from none.
            var outcome = await pending!;
            Specification.Assert(
                false,
                "StopAsync completed while caller {0}, admitted at t={1} before StopAsync was called at t={2}, had no outcome (it later got: {3})",
                caller,
                admittedAt,
                stopCalled,
                outcome.ToString());
        }

        var afterStop = 0;
        try
        {
            _ = deduplicator.EnqueueAsync("k", 4);
        }
        catch (ObjectDisposedException)
        {
            afterStop = 1;
        }

        Specification.Assert(afterStop == 1, "a caller after StopAsync completed was not refused");
        var keys = new[] { "k", "k", "j" };
        for (var i = 0; i < admitted.Length; i++)
        {
            if (admitted[i].Pending is not { } pending)
            {
                continue;
            }

            // An arrival racing the stop may be admitted after StopAsync returned; it must still get an outcome.
            var outcome = await pending;
            Callers.AssertOutcome(outcome, keys[i], ledger.Runs, mayBeCanceled: true);
        }

        ledger.AssertOneRunAtATime();
    }
}
