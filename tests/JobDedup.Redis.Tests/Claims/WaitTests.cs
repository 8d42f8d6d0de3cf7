using JobDedup.Redis.Tests.Support;

namespace JobDedup.Redis.Tests.Claims;

/// <summary>Waiting on a claim when a pub/sub message is missed (the backend-neutral cases are in <see cref="WaitContractTests"/>).</summary>
public sealed class WaitTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task WaitForOutcomeAsync_MessageMissed_PollingFindsTheOutcome()
    {
        var scope = new StoreScope(redis);
        await using var holder = scope.Store();
        await using var waiter = scope.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        await holder.TryClaimAsync("s", "k", "holder", null, LongLease, default);

        var waiting = waiter.WaitForOutcomeAsync("s", "k", default).AsTask();
        await Watchdog.Until(() => waiter.WaitReads >= 1, "the waiter read the held key and waits");

        // Completed behind the store's back: no message is published.
        var record = await holder.RecordKeyAsync("s", "k");
        await redis.Database.HashSetAsync(record, [new("st", "d"), new("val", "\"written without a message\""), new("att", 1), new("at", 0), new("exp", long.MaxValue / 2)]);

        Assert.Equal("written without a message", (await waiting.Within())!.Value.Value);
    }

}
