using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Pipeline;

/// <summary>ForgetAsync returns once the store has forgotten the key, so nothing after it can see the old outcome.</summary>
public sealed class ForgetAsyncTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForgetAsync_StoreStillRemovingTheOutcome_CompletesOnlyAfterTheRemoval(bool claiming)
    {
        var store = new ScriptableOutcomeStore<string>();
        var runs = new RunTracker();
        await using var dedup = CreateCounting(runs, claiming ? store : store.AsPlainStore());
        Assert.Equal("run-1", (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Value);
        var removal = store.Hold(StoreOperation.Remove, "k");

        var forgetting = dedup.ForgetAsync("k").AsTask();
        await removal.Reached.Within();

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
        var store = new ScriptableOutcomeStore<string>();
        var runs = new RunTracker();
        await using var dedup = CreateCounting(runs, claiming ? store : store.AsPlainStore());
        Assert.Equal("run-1", (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Value);
        var removal = store.Hold(StoreOperation.Remove, "k");

        var forgetting = dedup.ForgetAsync("k").AsTask();
        await removal.Reached.Within();
        removal.Open();
        await forgetting.Within();
        var next = await dedup.EnqueueAsync(new Job("k", "2")).Within();

        Assert.Equal(JobRole.Leader, next.Role);
        Assert.Equal("run-2", next.Value);
        Assert.Equal(2, runs.Runs);
    }

    private static JobDeduplicator<Job, string> CreateCounting(RunTracker runs, IOutcomeStore<string> store) =>
        Dedup.Create(
            (_, _, _) =>
            {
                var run = runs.Start();
                runs.End(run);
                return new ValueTask<string>($"run-{run}");
            },
            o => o.CompletedRetention = Retention,
            store: store);
}
