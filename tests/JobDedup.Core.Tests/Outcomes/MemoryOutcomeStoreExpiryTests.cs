using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Outcomes;

/// <summary>
/// A memory store shared by several deduplicators (scopes with their own retentions) expires every entry on its own
/// time: a long-lived entry of one scope never keeps an expired entry of another alive, nor counts it against the bound.
/// </summary>
public sealed class MemoryOutcomeStoreExpiryTests
{
    private static readonly StoredOutcome<string> Paid = new("paid", 1, DateTimeOffset.UnixEpoch);
    private static readonly TimeSpan Long = TimeSpan.FromDays(1);
    private static readonly TimeSpan Short = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task TryGetAsync_ShortLivedEntryBehindALongLivedOneOfAnotherScope_IsGoneAfterItsRetention()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time);
        await store.SaveAsync("reports", "r-1", Paid, Long, default);
        await store.SaveAsync("payments", "evt_1", Paid, Short, default);

        time.Advance(Short);

        Assert.Null(await store.TryGetAsync("payments", "evt_1", default));
        Assert.NotNull(await store.TryGetAsync("reports", "r-1", default));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task AnyOperation_AfterAnEntryExpiredBehindALongLivedOneOfAnotherScope_DropsIt()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time);
        await store.SaveAsync("reports", "r-1", Paid, Long, default);
        for (var i = 0; i < 5; i++)
        {
            await store.SaveAsync("payments", $"evt_{i}", Paid, Short, default);
        }

        time.Advance(Short);

        // An operation on another key of the long-lived scope: the expired entries of the other scope must go.
        Assert.NotNull(await store.TryGetAsync("reports", "r-1", default));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task SaveAsync_StoreAtCapacityWithExpiredEntries_EvictsNoLiveEntry()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(2, time);
        await store.SaveAsync("reports", "r-1", Paid, Long, default);
        await store.SaveAsync("payments", "evt_1", Paid, Short, default);

        time.Advance(Short);
        await store.SaveAsync("payments", "evt_2", Paid, Short, default);

        // evt_1 expired, so the bound counts two live entries: nothing live had to make room.
        Assert.NotNull(await store.TryGetAsync("reports", "r-1", default));
        Assert.NotNull(await store.TryGetAsync("payments", "evt_2", default));
        Assert.Null(await store.TryGetAsync("payments", "evt_1", default));
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public async Task EnqueueAsync_TwoDeduplicatorsShareABoundedStore_ExpiredOutcomesOfOneNeverEvictTheOthersLiveOnes()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(2, time);
        var runs = new RunTracker();
        ValueTask<string> Handle(Job job, JobContext context, CancellationToken token)
        {
            var run = runs.Start();
            runs.End(run);
            return new($"{context.DeduplicatorName}:{job.Key}:{run}");
        }

        await using var reports = Dedup.Create(Handle, o => { o.Name = "reports"; o.DedupeWindow = Long; }, time, store);
        await using var payments = Dedup.Create(Handle, o => { o.Name = "payments"; o.DedupeWindow = Short; }, time, store);

        Assert.Equal(JobRole.Leader, (await reports.EnqueueAsync(new Job("r-1", "x")).Within()).Role);
        Assert.Equal(JobRole.Leader, (await payments.EnqueueAsync(new Job("evt_1", "x")).Within()).Role);
        time.Advance(Short);
        Assert.Equal(JobRole.Leader, (await payments.EnqueueAsync(new Job("evt_2", "x")).Within()).Role);

        var replay = await reports.EnqueueAsync(new Job("r-1", "again")).Within();

        Assert.Equal(JobRole.Replayed, replay.Role);
        Assert.Equal("reports:r-1:1", replay.Value);
        Assert.Equal(3, runs.Runs);
        Assert.Equal(2, store.Count);
    }
}
