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
}
