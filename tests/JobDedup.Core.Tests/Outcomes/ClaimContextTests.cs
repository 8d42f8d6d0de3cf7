using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Outcomes;

/// <summary>What a handler learns of its claim: the fencing token, and whether it takes over from an owner that died.</summary>
public sealed class ClaimContextTests
{
    [Fact]
    public async Task Handler_OnAClaimingStore_SeesItsClaimsFencingToken_OnEveryAttempt_AndNoTakeover()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var contexts = new List<JobContext>();
        await using var dedup = Dedup.OnClaims(store, time, (_, context, _) =>
        {
            lock (contexts)
            {
                contexts.Add(context);
            }

            return context.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : ValueTask.FromResult("ok");
        }, o => o.MaxRetryAttempts = 1);

        var outcome = await dedup.EnqueueAsync(new Job("k", "A")).Within();

        Assert.Equal("ok", outcome.Value);
        Assert.Equal(2, contexts.Count);
        Assert.All(contexts, c => Assert.Equal(store.LastGrantedToken, c.FencingToken));
        Assert.All(contexts, c => Assert.False(c.TakesOver));
        Assert.True(store.LastGrantedToken > 0);
    }

    [Fact]
    public async Task Handler_WithAStoreThatDoesNotClaim_SeesNoFencingToken()
    {
        JobContext? seen = null;
        await using var dedup = Dedup.Create((_, context, _) =>
        {
            seen = context;
            return ValueTask.FromResult("ok");
        }, o => o.DedupeWindow = TimeSpan.FromHours(1));

        await dedup.EnqueueAsync(new Job("k", "A")).Within();

        Assert.NotNull(seen);
        Assert.Null(seen.FencingToken);
        Assert.False(seen.TakesOver);
    }

    [Fact]
    public async Task Handler_AfterAnOwnerWhoseLeaseLapsed_IsToldItTakesOver_WithALargerToken()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var dead = await store.TryClaimAsync("test", "k", "crashed instance", null, TimeSpan.FromSeconds(5), default);
        time.Advance(TimeSpan.FromSeconds(6));
        JobContext? seen = null;
        await using var dedup = Dedup.OnClaims(store, time, (_, context, _) =>
        {
            seen = context;
            return ValueTask.FromResult("ok");
        });

        await dedup.EnqueueAsync(new Job("k", "A")).Within();

        Assert.NotNull(seen);
        Assert.True(seen.TakesOver);
        Assert.True(seen.FencingToken > dead.FencingToken, $"{seen.FencingToken} after {dead.FencingToken}");
    }

    [Fact]
    public async Task Handler_AfterAnOwnerTheStoreSawDie_TakesOverAtOnce_WithoutWaitingForTheLease()
    {
        var time = new FakeTimeProvider();
        var memory = new MemoryClaimingStore<string>(time);
        var store = new ScriptableOutcomeStore<string>(memory);
        await store.TryClaimAsync("test", "k", "crashed instance", null, TimeSpan.FromMinutes(5), default);
        JobContext? seen = null;
        await using var dedup = Dedup.OnClaims(store, time, (_, context, _) =>
        {
            seen = context;
            return ValueTask.FromResult("ok");
        });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await Watchdog.Until(() => store.CountOf(StoreOperation.WaitForOutcome) == 1, "the flight waits on the live claim");
        Assert.Null(seen);
        memory.KillOwner("crashed instance");

        Assert.Equal(JobRole.Leader, (await call.Within()).Role);
        Assert.True(seen!.TakesOver);
    }

    [Fact]
    public async Task Handler_AfterAFailedRunReleasedTheKey_DoesNotTakeOver()
    {
        var time = new FakeTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var contexts = new List<JobContext>();
        await using var dedup = Dedup.OnClaims(store, time, (_, context, _) =>
        {
            contexts.Add(context);
            return contexts.Count == 1 ? throw new InvalidOperationException("declined") : ValueTask.FromResult("ok");
        });

        Assert.Equal(JobStatus.Failed, (await dedup.EnqueueAsync(new Job("k", "1")).Within()).Status);
        Assert.Equal("ok", (await dedup.EnqueueAsync(new Job("k", "2")).Within()).Value);

        Assert.Equal(2, contexts.Count);
        Assert.All(contexts, c => Assert.False(c.TakesOver));
        Assert.True(contexts[1].FencingToken > contexts[0].FencingToken);
    }
}
