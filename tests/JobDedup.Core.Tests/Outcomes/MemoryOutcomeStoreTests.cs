namespace JobDedup.Core.Tests.Outcomes;

public sealed class MemoryOutcomeStoreTests
{
    private static readonly StoredOutcome<string> Paid = new("paid", 1, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task TryGetAsync_ScopesKeepKeysApart()
    {
        var store = new MemoryOutcomeStore<string>(10);
        await store.SaveAsync("payments", "evt_1", Paid, TimeSpan.FromMinutes(1), default);

        Assert.Equal(Paid, await store.TryGetAsync("payments", "evt_1", default));
        Assert.Null(await store.TryGetAsync("bookings", "evt_1", default));
    }

    [Fact]
    public async Task TryGetAsync_AfterExpiry_ReturnsNothingAndDropsTheEntry()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time);
        await store.SaveAsync("s", "k", Paid, TimeSpan.FromMinutes(1), default);

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(await store.TryGetAsync("s", "k", default));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task SaveAsync_OverCapacity_EvictsTheOldest()
    {
        var store = new MemoryOutcomeStore<string>(2);
        await store.SaveAsync("s", "a", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "b", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "c", Paid, TimeSpan.FromMinutes(1), default);

        Assert.Null(await store.TryGetAsync("s", "a", default));
        Assert.NotNull(await store.TryGetAsync("s", "b", default));
        Assert.NotNull(await store.TryGetAsync("s", "c", default));
    }

    [Fact]
    public async Task ClearAsync_DropsOnlyItsScope()
    {
        var store = new MemoryOutcomeStore<string>(10);
        await store.SaveAsync("a", "k", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("b", "k", Paid, TimeSpan.FromMinutes(1), default);

        await store.ClearAsync("a", default);

        Assert.Null(await store.TryGetAsync("a", "k", default));
        Assert.NotNull(await store.TryGetAsync("b", "k", default));
    }

    [Fact]
    public async Task SaveAsync_ExpiredEntriesLeaveNoTraceOnTheNextOperation()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(1000, time);
        for (var i = 0; i < 500; i++)
        {
            await store.SaveAsync("s", $"k{i}", Paid, TimeSpan.FromMinutes(1), default);
        }

        time.Advance(TimeSpan.FromMinutes(2));
        await store.SaveAsync("s", "fresh", Paid, TimeSpan.FromMinutes(1), default);

        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task SaveAsync_FullWithMixedRetentions_EvictsTheOutcomeClosestToItsExpiry()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(3, time);
        await store.SaveAsync("s", "day", Paid, TimeSpan.FromDays(1), default);
        await store.SaveAsync("s", "minute", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "hour", Paid, TimeSpan.FromHours(1), default);

        // Saved after a longer one, "minute" and "hour" expire out of the order they were saved in.
        await store.SaveAsync("s", "day-2", Paid, TimeSpan.FromDays(1), default);
        Assert.Null(await store.TryGetAsync("s", "minute", default));
        await store.SaveAsync("s", "day-3", Paid, TimeSpan.FromDays(1), default);
        Assert.Null(await store.TryGetAsync("s", "hour", default));
        await store.SaveAsync("s", "day-4", Paid, TimeSpan.FromDays(1), default);

        Assert.Null(await store.TryGetAsync("s", "day", default));
        foreach (var key in new[] { "day-2", "day-3", "day-4" })
        {
            Assert.NotNull(await store.TryGetAsync("s", key, default));
        }

        Assert.Equal(3, store.Count);
    }

    [Theory]
    [InlineData(1, 60)]
    [InlineData(60, 1)]
    public async Task SaveAsync_KeySavedAgain_ExpiresOnItsLatestRetentionOnly(int firstMinutes, int secondMinutes)
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time);
        var second = new StoredOutcome<string>("refunded", 2, DateTimeOffset.UnixEpoch);
        await store.SaveAsync("s", "k", Paid, TimeSpan.FromMinutes(firstMinutes), default);
        await store.SaveAsync("s", "k", second, TimeSpan.FromMinutes(secondMinutes), default);

        time.Advance(TimeSpan.FromMinutes(Math.Min(firstMinutes, secondMinutes)));
        var found = await store.TryGetAsync("s", "k", default);

        if (secondMinutes > firstMinutes)
        {
            Assert.Equal(second, found);
            Assert.Equal(1, store.Count);
        }
        else
        {
            Assert.Null(found);
            Assert.Equal(0, store.Count);
        }
    }

    [Fact]
    public async Task SaveAsync_ManySavesOfFewKeysInMixedOrder_KeepsEachKeysLatestOutcomeAndEvictsNothingLive()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(4, time);
        var latest = new Dictionary<string, StoredOutcome<string>>();
        for (var i = 0; i < 5_000; i++)
        {
            // Retentions that go up and down, so that expiries come in and out of order, and replaced entries pile up.
            var key = $"k{i % 4}";
            var outcome = new StoredOutcome<string>($"v{i}", 1, DateTimeOffset.UnixEpoch);
            await store.SaveAsync("s", key, outcome, TimeSpan.FromMinutes(10 + (i * 7 % 13)), default);
            latest[key] = outcome;
        }

        Assert.Equal(4, store.Count);
        foreach (var (key, outcome) in latest)
        {
            Assert.Equal(outcome, await store.TryGetAsync("s", key, default));
        }

        time.Advance(TimeSpan.FromMinutes(23));
        Assert.Equal(0, store.Count);
    }
}
