using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.CrossInstance;

/// <summary>A leader whose process dies mid-handler: while it lives it renews its claim; once it is killed another instance runs the key once, and the dead leader's late write is refused.</summary>
public sealed class LeaseTakeoverTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly TimeSpan HolderLease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task LeaderProcessKilledMidHandler_TheOtherInstanceRunsTheKeyOnceAfterTheLease_AndTheStaleWriteIsRefused()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(250));
        await store.MigrateAsync(); // before the child starts, so that its own migration finds the table ready
        await using var holder = LeaseHolderProcess.Start(schema, "test", "evt_1", HolderLease);
        var holderToken = await holder.Running.Within();

        var runs = 0;
        await using var survivor = Dedup.Create(store, (job, _, _) =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult($"charged once, by the survivor, for {job.Payload}");
        });
        var call = survivor.EnqueueAsync(new Job("evt_1", "the redelivery")).AsTask();
        await Watchdog.Until(() => store.Waiters == 1, "the survivor waits on the holder's claim");

        // The holder renews: well after its first lease would have lapsed, the key is still its.
        var firstLease = await schema.ScalarAsync<DateTimeOffset>($"SELECT lease_expires_at FROM {schema.QualifiedTable}");
        await Watchdog.Until(async () => await schema.DatabaseNowAsync() > firstLease + HolderLease, "two leases pass on the database clock");
        Assert.Equal(1, await schema.CountAsync($"status = 'claimed' AND fencing_token = {holderToken} AND lease_expires_at > now()"));
        Assert.Equal(0, runs);
        Assert.False(call.IsCompleted);

        await holder.KillAsync();
        var outcome = await call.Within();

        Assert.Equal(JobStatus.Succeeded, outcome.Status);
        Assert.Equal(JobRole.Leader, outcome.Role);
        Assert.Equal("charged once, by the survivor, for the redelivery", outcome.Value);
        Assert.Equal(1, runs);
        var survivorToken = await schema.ScalarAsync<long>($"SELECT fencing_token FROM {schema.QualifiedTable}");
        Assert.True(survivorToken > holderToken, $"the takeover's token {survivorToken} must be larger than the dead leader's {holderToken}");

        // The dead leader's write arrives late, with its old token: refused, and the survivor's outcome stays.
        var late = await store.CompleteAsync("test", "evt_1", holderToken, new StoredOutcome<string>("stale", 1, DateTimeOffset.UtcNow), TimeSpan.FromHours(1), default);
        Assert.False(late);
        Assert.False(await store.RenewAsync("test", "evt_1", holderToken, TimeSpan.FromMinutes(1), default));
        await store.ReleaseAsync("test", "evt_1", holderToken, default);
        Assert.Equal("charged once, by the survivor, for the redelivery", (await store.TryGetAsync("test", "evt_1", default))!.Value.Value);

        var again = await survivor.EnqueueAsync(new Job("evt_1", "yet another redelivery")).Within();
        Assert.Equal(JobRole.Replayed, again.Role);
        Assert.Equal(1, runs);
    }
}
