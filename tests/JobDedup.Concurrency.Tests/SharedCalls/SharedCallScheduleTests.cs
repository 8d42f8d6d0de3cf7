using JobDedup.Concurrency.Tests.Support;
using Microsoft.Coyote.Runtime;
using Microsoft.Coyote.Specifications;
using Xunit.Abstractions;

namespace JobDedup.Concurrency.Tests.SharedCalls;

/// <summary>
/// <see cref="SharedCall{TKey, TResult}"/> runs one work at a time per key and gives every caller the shared result
/// or its own cancellation, under schedules Coyote picks.
/// </summary>
public sealed class SharedCallScheduleTests(ITestOutputHelper output)
{
    [Fact]
    public void RunAsync_ConcurrentCallersOfOneKey_ShareOneRunAtATime() =>
        ScheduleExploration.Explore(output, nameof(RunAsync_ConcurrentCallersOfOneKey_ShareOneRunAtATime), seed: 1401, async () =>
        {
            var ledger = new RunLedger();
            var group = new SharedCall<string, int>();
            var callers = Enumerable.Range(0, 3)
                .Select(_ => Task.Run(async () => await group.RunAsync("k", token => ledger.CountAsync("k"))))
                .ToArray();
            var results = await Task.WhenAll(callers);

            ledger.AssertOneRunAtATime();
            foreach (var result in results)
            {
                Specification.Assert(result >= 1 && result <= ledger.Runs, "a caller got {0}, which no run produced", result);
            }
        });

    /// <summary>
    /// A cancellable caller leads and leaves while the work (which does not watch its token) is still running; the
    /// next caller must not start a second run beside it.
    /// </summary>
    [Fact]
    public void RunAsync_CancellableCallersLeavingMidRun_NeverRunTheWorkTwiceAtOnce() =>
        ScheduleExploration.Explore(output, nameof(RunAsync_CancellableCallersLeavingMidRun_NeverRunTheWorkTwiceAtOnce), seed: 1402, async () =>
        {
            var ledger = new RunLedger();
            var group = new SharedCall<string, int>();
            using var first = new CancellationTokenSource();
            using var second = new CancellationTokenSource();

            async Task<int?> Call(CancellationToken token)
            {
                try
                {
                    return await group.RunAsync("k", _ => ledger.CountAsync("k"), token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return null;
                }
            }

            var leaving = new[] { Task.Run(() => Call(first.Token)), Task.Run(() => Call(second.Token)) };
            var canceler = Task.Run(async () =>
            {
                first.Cancel();
                SchedulingPoint.Interleave();
                second.Cancel();
            });
            var staying = Task.Run(async () =>
            {
                await canceler;
                return await Call(CancellationToken.None);
            });
            var results = await Task.WhenAll(new[] { leaving[0], leaving[1], staying });

            ledger.AssertOneRunAtATime();
            Specification.Assert(results[2] is not null, "the caller without a token got no result");
            foreach (var result in results)
            {
                Specification.Assert(result is null || (result >= 1 && result <= ledger.Runs), "a caller got {0}, which no run produced", result ?? 0);
            }
        });
}
