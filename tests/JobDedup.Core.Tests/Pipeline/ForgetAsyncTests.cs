using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>ForgetAsync returns once the store has forgotten the key, so nothing after it can see the old outcome.</summary>
public sealed class ForgetAsyncTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForgetAsync_StoreStillRemovingTheOutcome_CompletesOnlyAfterTheRemoval(bool claiming)
    {
        var (store, runs) = (new ScriptableOutcomeStore<string>(), new RunTracker());
        await using var dedup = TrackedRuns.WithWindow(runs, claiming ? store : store.AsPlainStore());
        var (removal, forgetting) = await ForgetWhileTheStoreRemovesAsync(dedup, store);

        Assert.False(forgetting.IsCompleted, "ForgetAsync returned while the store was still removing the outcome.");
        removal.Open();
        await forgetting.Within();
        Assert.Null(await store.Inner.TryGetAsync("test", "k", CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForgetAsync_ThenEnqueueAsync_NeverReplaysTheForgottenValue(bool claiming)
    {
        var (store, runs) = (new ScriptableOutcomeStore<string>(), new RunTracker());
        await using var dedup = TrackedRuns.WithWindow(runs, claiming ? store : store.AsPlainStore());
        var (removal, forgetting) = await ForgetWhileTheStoreRemovesAsync(dedup, store);

        removal.Open();
        await forgetting.Within();
        var next = await dedup.EnqueueAsync(new Job("k", "2")).Within();

        Assert.Equal(JobRole.Leader, next.Role);
        Assert.Equal("run-2", next.Value);
        Assert.Equal(2, runs.Runs);
    }

    /// <summary>Runs "k" once, then forgets it while the store holds its removal at a gate.</summary>
    private static async Task<(StoreGate Removal, Task Forgetting)> ForgetWhileTheStoreRemovesAsync(
        JobDeduplicator<Job, string> dedup,
        ScriptableOutcomeStore<string> store)
    {
        Assert.Equal("run-1", (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Value);
        var removal = store.Hold(StoreOperation.Remove, "k");
        var forgetting = dedup.ForgetAsync("k").AsTask();
        await removal.Reached.Within();
        return (removal, forgetting);
    }
}
