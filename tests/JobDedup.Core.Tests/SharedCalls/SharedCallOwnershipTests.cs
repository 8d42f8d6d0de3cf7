namespace JobDedup.Core.Tests.SharedCalls;

/// <summary>
/// A key stays owned by its run until the work has really ended, even after every caller left: the next call waits
/// for that end and then runs, so the work of one key never runs twice at once.
/// </summary>
public sealed class SharedCallOwnershipTests
{
    [Fact]
    public async Task RunAsync_OnlyCallerLeavesWhileTheWorkIgnoresItsToken_NextCallRunsOnlyAfterTheWorkEnded()
    {
        var shared = new SharedCall<string, string>();
        var runs = new RunTracker();
        var stillRunning = new Gate();
        using var leaving = new CancellationTokenSource();

        var first = shared.RunAsync("k", (Func<CancellationToken, Task<string>>)(async _ =>
        {
            var run = runs.Start();
            await stillRunning.WaitAsync(CancellationToken.None); // ignores its token
            runs.End(run);
            return $"run-{run}";
        }), leaving.Token);
        await stillRunning.Reached.Within();
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Within());

        Task<string> second;
        try
        {
            second = shared.RunAsync("k", _ => Counted(runs));

            Assert.True(runs.Runs == 1, $"A second run of the key started while the first was still running: {string.Join(", ", runs.Events)}.");
            Assert.False(second.IsCompleted, "The next call got a result before the work it had to wait for ended.");
        }
        finally
        {
            stillRunning.Open();
        }

        Assert.Equal("run-2", await second.Within());
        Assert.Equal(1, runs.MaxConcurrent);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], runs.Events);
    }

    [Fact]
    public async Task RunAsync_OnlyCallerCanceledWhileTheWorkBlocksInItsSynchronousPart_NextCallDoesNotRunBesideIt()
    {
        var shared = new SharedCall<string, string>();
        var runs = new RunTracker();
        using var release = new ManualResetEventSlim();
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stillRunning = new Gate();
        using var leaving = new CancellationTokenSource();

        // The first caller runs the work on its own thread; the work blocks (a synchronous SDK call) and then goes on
        // asynchronously, ignoring its token.
        var first = Task.Run(() => shared.RunAsync("k", (Func<CancellationToken, Task<string>>)(async _ =>
        {
            var run = runs.Start();
            blocking.TrySetResult();
            release.Wait(Watchdog.Limit, CancellationToken.None);
            await stillRunning.WaitAsync(CancellationToken.None);
            runs.End(run);
            return $"run-{run}";
        }), leaving.Token));
        await blocking.Task.Within();
        await leaving.CancelAsync();
        release.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.Within());
        await stillRunning.Reached.Within();

        Task<string> second;
        try
        {
            second = shared.RunAsync("k", _ => Counted(runs));

            Assert.True(runs.Runs == 1, $"A second run of the key started while the first was still running: {string.Join(", ", runs.Events)}.");
        }
        finally
        {
            stillRunning.Open();
        }

        Assert.Equal("run-2", await second.Within());
        Assert.Equal(1, runs.MaxConcurrent);
        Assert.Equal(["start-1", "end-1", "start-2", "end-2"], runs.Events);
    }

    private static Task<string> Counted(RunTracker runs)
    {
        var run = runs.Start();
        runs.End(run);
        return Task.FromResult($"run-{run}");
    }
}
