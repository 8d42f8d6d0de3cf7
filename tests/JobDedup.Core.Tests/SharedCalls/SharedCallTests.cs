using System.Runtime.CompilerServices;
using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.SharedCalls;

public sealed class SharedCallTests
{
    [Fact]
    public async Task RunAsync_ConcurrentRequests_CoalesceWithTheRightStats()
    {
        // The seed's first test: concurrent requests for one key run the work once.
        var shared = new SharedCall<string, string>();
        var gate = new Gate();
        var runs = 0;

        var calls = Enumerable.Range(0, 100).Select(_ => shared.RunAsync("product-1", async ct =>
        {
            Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return "row";
        })).ToArray();
        var stats = shared.GetStats();
        Assert.Equal(99, stats.Hits);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(1, stats.Active);

        gate.Open();
        var results = await Task.WhenAll(calls).Within();

        Assert.Equal(1, runs);
        Assert.All(results, r => Assert.Equal("row", r));
        Assert.Equal(0, shared.GetStats().Active);
        Assert.Equal(0.99, shared.GetStats().HitRate, 3);
    }

    [Fact]
    public async Task ResetStats_ZeroesEveryCounter()
    {
        // The seed's second test.
        var shared = new SharedCall<string, int>();
        await shared.RunAsync("a", _ => Task.FromResult(1)).Within();
        await shared.RunAsync("a", _ => Task.FromException<int>(new InvalidOperationException())).ContinueWith(_ => 0).Within();
        Assert.NotEqual(default, shared.GetStats());

        shared.ResetStats();

        Assert.Equal(new DeduplicationStats(0, 0, 0, 0, 0, 0, 0), shared.GetStats());
    }

    [Fact]
    public async Task Forget_BeforeEachCall_ThreeCallsRunThreeTimes()
    {
        // The seed's third test: forget prevents coalescing.
        var shared = new SharedCall<string, int>();
        var gate = new Gate();
        var runs = 0;
        Task<int> Call() => shared.RunAsync("k", async ct =>
        {
            var run = Interlocked.Increment(ref runs);
            await gate.WaitAsync(ct);
            return run;
        });

        var first = Call();
        shared.Forget("k");
        var second = Call();
        shared.Forget("k");
        var third = Call();
        gate.Open();

        Assert.Equal(new[] { 1, 2, 3 }, await Task.WhenAll(first, second, third).Within());
        Assert.Equal(3, shared.GetStats().Misses);
        Assert.Equal(0, shared.GetStats().Hits);
    }

    [Fact]
    public async Task Forget_DuringAFlight_TheOldFlightDoesNotRemoveTheNewOne()
    {
        var shared = new SharedCall<string, int>();
        var gates = new[] { new Gate(), new Gate() };
        var runs = 0;
        Task<int> Call() => shared.RunAsync("k", async ct =>
        {
            var run = Interlocked.Increment(ref runs);
            await gates[run - 1].WaitAsync(ct);
            return run;
        });

        var first = Call();
        shared.Forget("k");
        var second = Call();
        gates[0].Open();
        Assert.Equal(1, await first.Within());

        var third = Call(); // must join the second flight, still mapped
        gates[1].Open();

        Assert.Equal(2, await second.Within());
        Assert.Equal(2, await third.Within());
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task RunAsync_WorkFails_EveryCallerGetsTheSameException()
    {
        var shared = new SharedCall<string, int>();
        var gate = new Gate();
        var failure = new InvalidOperationException("db down");

        var calls = Enumerable.Range(0, 5).Select(_ => shared.RunAsync("k", async ct =>
        {
            await gate.WaitAsync(ct);
            throw failure;
        })).ToArray();
        gate.Open();

        foreach (var call in calls)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => call.Within()));
        }

        Assert.Equal(1, shared.GetStats().Errors);
    }

    [Fact]
    public async Task RunAsync_WorkThrowsSynchronously_CallerGetsAFaultedTask()
    {
        var shared = new SharedCall<string, int>();

        var call = shared.RunAsync("k", _ => throw new FormatException("sync"));

        await Assert.ThrowsAsync<FormatException>(() => call.Within());
        Assert.Equal(0, shared.GetStats().Active);
    }

    [Fact]
    public async Task RunAsync_WorkReturnsNull_CallerGetsAClearError()
    {
        var shared = new SharedCall<string, int>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => shared.RunAsync("k", _ => null!).Within());

        Assert.Contains("null", error.Message);
    }

    [Fact]
    public async Task RunAsync_OneCallerCancels_OthersStillGetTheValue()
    {
        var shared = new SharedCall<string, int>();
        var gate = new Gate();
        var workToken = CancellationToken.None;
        using var impatient = new CancellationTokenSource();

        var leader = shared.RunAsync("k", async ct =>
        {
            workToken = ct;
            await gate.WaitAsync(ct);
            return 7;
        });
        var leaving = shared.RunAsync("k", _ => Task.FromResult(-1), impatient.Token);
        var staying = shared.RunAsync("k", _ => Task.FromResult(-1));
        impatient.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.Within());
        Assert.False(workToken.IsCancellationRequested);
        gate.Open();
        Assert.Equal(7, await leader.Within());
        Assert.Equal(7, await staying.Within());
    }

    [Fact]
    public async Task RunAsync_EveryCallerCancels_WorkTokenFires()
    {
        var shared = new SharedCall<string, int>();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();

        var first = shared.RunAsync("k", async ct =>
        {
            ct.Register(() => fired.TrySetResult());
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }, a.Token);
        var second = shared.RunAsync("k", _ => Task.FromResult(-1), b.Token);

        a.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Within());
        Assert.False(fired.Task.IsCompleted);
        b.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.Within());
        await fired.Task.Within();

        // The abandoned key is free again.
        Assert.Equal(5, await shared.RunAsync("k", _ => Task.FromResult(5)).Within());
    }

    [Fact]
    public async Task RunAsync_EveryCallerCancelsWithRunToCompletion_WorkTokenNeverFires()
    {
        var shared = new SharedCall<string, int>(new SharedCallOptions { RunToCompletionWhenAbandoned = true });
        var gate = new Gate();
        var workToken = new CancellationToken(canceled: true);
        using var cts = new CancellationTokenSource();

        var call = shared.RunAsync("k", async ct =>
        {
            workToken = ct;
            await gate.WaitAsync(CancellationToken.None);
            return 1;
        }, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());

        Assert.False(workToken.IsCancellationRequested);
        var joiner = shared.RunAsync("k", _ => Task.FromResult(-1));
        gate.Open();
        Assert.Equal(1, await joiner.Within());
    }

    [Fact]
    public void Run_ThreadsOnOneKey_RunTheWorkOnceAndBlockJoinersUntilItEnds()
    {
        var shared = new SharedCall<string, string>();
        using var release = new ManualResetEventSlim();
        var runs = 0;
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            var value = shared.Run("k", () =>
            {
                Interlocked.Increment(ref runs);
                release.Wait(Watchdog.Limit);
                return "sync-value";
            });
            Assert.Equal("sync-value", value);
        })).ToList();

        threads.ForEach(t => t.Start());
        SpinWait.SpinUntil(() => shared.GetStats().Hits == 7, Watchdog.Limit);
        Assert.Equal(7, shared.GetStats().Hits);
        release.Set();
        threads.ForEach(t => Assert.True(t.Join(Watchdog.Limit)));

        Assert.Equal(1, runs);
    }

    [Fact]
    public void Run_WorkThrows_LeaderAndJoinersGetTheException()
    {
        var shared = new SharedCall<string, int>();
        using var release = new ManualResetEventSlim();
        var failure = new InvalidOperationException("sync failure");
        Exception? joinerError = null;

        var joiner = new Thread(() =>
        {
            SpinWait.SpinUntil(() => shared.GetStats().Active == 1, Watchdog.Limit);
            try
            {
                shared.Run("k", () => 0);
            }
            catch (Exception ex)
            {
                joinerError = ex;
            }
        });
        joiner.Start();

        var leaderError = Assert.Throws<InvalidOperationException>(() => shared.Run("k", () =>
        {
            SpinWait.SpinUntil(() => shared.GetStats().Hits == 1, Watchdog.Limit);
            throw failure;
        }));

        Assert.True(joiner.Join(Watchdog.Limit));
        Assert.Same(failure, leaderError);
        Assert.Same(failure, joinerError);
    }

    [Fact]
    public async Task RunAsync_JoinersWithoutToken_ShareOneTaskAndAllocateNothing()
    {
        var shared = new SharedCall<string, int>();
        var gate = new Gate();
        var leader = shared.RunAsync("k", async ct =>
        {
            await gate.WaitAsync(ct);
            return 1;
        });
        Func<CancellationToken, Task<int>> unused = _ => Task.FromResult(-1);
        var warm = shared.RunAsync("k", unused);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var joined = shared.RunAsync("k", unused);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(warm, joined);
        Assert.Equal(0, allocated);
        gate.Open();
        Assert.Equal(1, await joined.Within());
        await leader.Within();
    }

    [Fact]
    public async Task RunAsync_NullKey_ThrowsArgumentExceptionNamingKey()
    {
        var shared = new SharedCall<string, int>();

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => shared.RunAsync(null!, _ => Task.FromResult(1)));

        Assert.Equal("key", error.ParamName);
    }

    // "No fire-and-forget task unobserved": when every caller of a SharedCall flight has left and the work then
    // fails, the shared TaskCompletionSource is faulted and nobody ever observes it.
    [Fact]
    public void RunAsync_EveryCallerLeftThenTheWorkFails_LeavesNoUnobservedTaskException()
    {
        var marker = $"shared-call-{Guid.NewGuid():N}";
        Assert.Equal(0, UnobservedExceptions.Count(marker, () => SharedCallAbandonedThenFails(marker)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task SharedCallAbandonedThenFails(string marker)
    {
        var call = new SharedCall<string, string>(new SharedCallOptions { RunToCompletionWhenAbandoned = true });

        // Not RunContinuationsAsynchronously: failing it runs the flight's Finish inline, so when SetException
        // returns the flight has published its outcome.
        var work = new TaskCompletionSource<string>();
        using (var cts = new CancellationTokenSource())
        {
            var caller = call.RunAsync("k", _ => work.Task, cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller).Within();
        }

        work.SetException(new InvalidOperationException(marker));
        Assert.Equal(1, call.GetStats().Errors);
        Assert.Equal(0, call.GetStats().Active);
    }
}
