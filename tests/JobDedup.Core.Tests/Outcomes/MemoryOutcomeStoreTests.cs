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
    public async Task Packer_EachOutcomeIsKeptPackedAndUnpackedForEachLookupThatFindsIt()
    {
        var packer = new CountingPacker();
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(2, time, packer);
        var kept = new StoredOutcome<string>("paid", 2, new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.FromHours(1))) { Fingerprint = "fp" };

        await store.SaveAsync("s", "a", kept, TimeSpan.FromMinutes(1), default);

        Assert.Equal((1, 0), (packer.Packed, packer.Unpacked));
        Assert.Equal(kept, await store.TryGetAsync("s", "a", default));
        Assert.Equal(kept, await store.TryGetAsync("s", "a", default));
        Assert.Null(await store.TryGetAsync("s", "other", default));
        Assert.Equal((1, 2), (packer.Packed, packer.Unpacked));

        // Packed entries expire and are evicted as any other.
        await store.SaveAsync("s", "b", kept, TimeSpan.FromMinutes(2), default);
        await store.SaveAsync("s", "c", kept, TimeSpan.FromMinutes(2), default);
        Assert.Null(await store.TryGetAsync("s", "a", default));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await store.TryGetAsync("s", "b", default));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Packer_AnOutcomeItDeclinesIsKeptAsItIs()
    {
        var packer = new CountingPacker();
        var store = new MemoryOutcomeStore<string>(10, timeProvider: null, packer);
        var failure = new StoredOutcome<string>(null!, 3, DateTimeOffset.UnixEpoch) { Failure = new StoredFailure("CardDeclined", "declined") };

        await store.SaveAsync("s", "declined", failure, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "paid", Paid, TimeSpan.FromMinutes(1), default);

        Assert.Equal(failure, await store.TryGetAsync("s", "declined", default));
        Assert.Equal(Paid, await store.TryGetAsync("s", "paid", default));
        Assert.Equal((1, 1), (packer.Packed, packer.Unpacked));
    }

    [Fact]
    public async Task Packer_SavedAgainPackedOrNot_TheLatestIsFound()
    {
        var store = new MemoryOutcomeStore<string>(10, timeProvider: null, new CountingPacker());
        var failure = new StoredOutcome<string>(null!, 1, DateTimeOffset.UnixEpoch) { Failure = new StoredFailure("Declined", "no") };

        await store.SaveAsync("s", "k", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "k", failure, TimeSpan.FromMinutes(1), default);
        Assert.Equal(failure, await store.TryGetAsync("s", "k", default));

        await store.SaveAsync("s", "k", Paid, TimeSpan.FromMinutes(1), default);
        Assert.Equal(Paid, await store.TryGetAsync("s", "k", default));
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task Packer_EveryArrayTheStoreLetsGoIsGivenBackOnceAndNeverReadAgain()
    {
        var packer = new CountingPacker();
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(2, time, packer);
        StoredOutcome<string> Paid(string value) => new(value, 1, DateTimeOffset.UnixEpoch);

        await store.SaveAsync("s", "a", Paid("a1"), TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "a", Paid("a2"), TimeSpan.FromMinutes(1), default); // replaced
        await store.SaveAsync("s", "b", Paid("b"), TimeSpan.FromMinutes(2), default);
        await store.SaveAsync("s", "c", Paid("c"), TimeSpan.FromMinutes(2), default); // evicts a
        Assert.Equal(["a1", "a2"], packer.Recycled);

        await store.RemoveAsync("s", "b", default);
        await store.SaveAsync("t", "d", Paid("d"), TimeSpan.FromMinutes(5), default);
        Assert.Equal(["a1", "a2", "b"], packer.Recycled);
        Assert.Equal("c", (await store.TryGetAsync("s", "c", default))!.Value.Value);
        Assert.Null(await store.TryGetAsync("s", "a", default));

        time.Advance(TimeSpan.FromMinutes(2)); // c expires
        Assert.Null(await store.TryGetAsync("s", "c", default));
        await store.ClearAsync("t", default);
        Assert.Equal(["a1", "a2", "b", "c", "d"], packer.Recycled);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Packer_TheArraysOfKeysLetGoAreReusedForNewKeys()
    {
        var store = new MemoryOutcomeStore<string>(100, timeProvider: null, new CountingPacker());
        for (var i = 0; i < 1_000; i++)
        {
            await store.SaveAsync("s", $"evt_{i:D6}", Paid, TimeSpan.FromMinutes(1), default);
        }

        // A full window takes the array of the key it lets go (a few spare arrays aside), not a new one per key.
        Assert.InRange(store.KeyArraysAllocated, 100, 120);
        Assert.Equal(100, store.Count);
        Assert.Null(await store.TryGetAsync("s", "evt_000899", default));
        for (var i = 900; i < 1_000; i++)
        {
            Assert.Equal(Paid, await store.TryGetAsync("s", $"evt_{i:D6}", default));
        }

        // A key too long for an array of the store's is kept as it is.
        var longKey = new string('k', 600);
        await store.SaveAsync("s", longKey, Paid, TimeSpan.FromMinutes(1), default);
        Assert.Equal(Paid, await store.TryGetAsync("s", longKey, default));
        Assert.Null(await store.TryGetAsync("s", "evt_000900", default));
    }

    [Fact]
    public async Task Packer_ExpiriesLeftBehindByAKeyLetGo_NeverDropTheKeysThatReuseItsArray()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryOutcomeStore<string>(10, time, new CountingPacker());
        StoredOutcome<string> Paid(string value) => new(value, 1, DateTimeOffset.UnixEpoch);

        // Two expiry items for key-a, both left behind once it is removed; its array goes back for reuse.
        await store.SaveAsync("s", "key-a", Paid("a1"), TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "key-a", Paid("a2"), TimeSpan.FromMinutes(1), default);
        await store.RemoveAsync("s", "key-a", default);

        // key-a saved again takes its old array back (the one the items left behind hold); key-b takes the spare one, kc a
        // new one; each is found by its own characters only.
        await store.SaveAsync("s", "key-a", Paid("a3"), TimeSpan.FromMinutes(10), default);
        await store.SaveAsync("s", "key-b", Paid("b"), TimeSpan.FromMinutes(10), default);
        await store.SaveAsync("s", "kc", Paid("c"), TimeSpan.FromMinutes(10), default);
        Assert.Equal(3, store.KeyArraysAllocated);

        // The items left behind come due first; the entries that hold key-a's old array now stay.
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(3, store.Count);
        Assert.Equal("b", (await store.TryGetAsync("s", "key-b", default))!.Value.Value);
        Assert.Equal("c", (await store.TryGetAsync("s", "kc", default))!.Value.Value);
        Assert.Equal("a3", (await store.TryGetAsync("s", "key-a", default))!.Value.Value);
        Assert.Null(await store.TryGetAsync("s", "k", default));
        Assert.Null(await store.TryGetAsync("s", "key-", default));

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, store.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NullKey_IsRefusedNamingIt(bool packed)
    {
        var store = packed ? new MemoryOutcomeStore<string>(10, timeProvider: null, new CountingPacker()) : new MemoryOutcomeStore<string>(10);
        await store.SaveAsync("s", string.Empty, Paid, TimeSpan.FromMinutes(1), default);

        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentNullException>(() => store.SaveAsync("s", null!, Paid, TimeSpan.FromMinutes(1), default).AsTask())).ParamName);
        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentNullException>(() => store.TryGetAsync("s", null!, default).AsTask())).ParamName);
        Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentNullException>(() => store.RemoveAsync("s", null!, default).AsTask())).ParamName);
        Assert.Equal(Paid, await store.TryGetAsync("s", string.Empty, default));
    }

    [Fact]
    public async Task Packer_ArraysAreGivenBackOutsideTheStoresLock()
    {
        // The packer is the application's code: while it takes an array back, another thread can use the store.
        var packer = new ReenteringPacker();
        var store = new MemoryOutcomeStore<string>(1, timeProvider: null, packer);
        packer.Store = store;
        await store.SaveAsync("s", "a", Paid, TimeSpan.FromMinutes(1), default);
        await store.SaveAsync("s", "b", Paid, TimeSpan.FromMinutes(1), default); // evicts a
        await store.RemoveAsync("s", "b", default);

        Assert.Equal([true, true], packer.StoreFreeDuringRecycle);
    }

    [Fact]
    public void Packer_Null_IsRefusedNamingIt()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new MemoryOutcomeStore<string>(10, null, null!));
        Assert.Equal("packer", ex.ParamName);
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

    /// <summary>Packs a value as its UTF-8; on each array given back, reads the store's count from another thread.</summary>
    private sealed class ReenteringPacker : IOutcomePacker<string>
    {
        public MemoryOutcomeStore<string>? Store { get; set; }

        public List<bool> StoreFreeDuringRecycle { get; } = [];

        public bool TryPack(in StoredOutcome<string> outcome, out byte[] packed)
        {
            packed = System.Text.Encoding.UTF8.GetBytes(outcome.Value);
            return true;
        }

        public StoredOutcome<string> Unpack(byte[] packed) => new(System.Text.Encoding.UTF8.GetString(packed), 1, DateTimeOffset.UnixEpoch);

        // Held under the store's lock, the other thread would wait for it until the timeout.
        public void Recycle(byte[] packed) => StoreFreeDuringRecycle.Add(Task.Run(() => Store!.Count).Wait(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Packs a successful string outcome (value, attempts, completion time, fingerprint) into UTF-8 lines, and counts its calls.</summary>
    private sealed class CountingPacker : IOutcomePacker<string>
    {
        public int Packed { get; private set; }

        public int Unpacked { get; private set; }

        public List<string> Recycled { get; } = [];

        public bool TryPack(in StoredOutcome<string> outcome, out byte[] packed)
        {
            if (outcome.Failure is not null)
            {
                packed = [];
                return false;
            }

            Packed++;
            packed = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', outcome.Value, outcome.Attempts, outcome.CompletedAt.ToString("O"), outcome.Fingerprint ?? "\0"));
            return true;
        }

        public void Recycle(byte[] packed)
        {
            // What it held, then overwritten, as a reuse would: the store must never read it again.
            Recycled.Add(System.Text.Encoding.UTF8.GetString(packed).Split('\n')[0]);
            Array.Fill(packed, (byte)'#');
        }

        public StoredOutcome<string> Unpack(byte[] packed)
        {
            Unpacked++;
            var parts = System.Text.Encoding.UTF8.GetString(packed).Split('\n');
            return new StoredOutcome<string>(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture))
            {
                Fingerprint = parts[3] == "\0" ? null : parts[3],
            };
        }
    }
}
