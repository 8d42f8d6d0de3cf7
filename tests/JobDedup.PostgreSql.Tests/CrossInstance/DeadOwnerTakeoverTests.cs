using System.Collections.Concurrent;
using System.Diagnostics;
using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;
using Xunit.Abstractions;

namespace JobDedup.PostgreSql.Tests.CrossInstance;

/// <summary>
/// A leader process killed with SIGKILL while it holds claims with a long lease: its session, and with it its instance
/// lock, ends at once, so the survivor takes every key over within seconds rather than after the lease.
/// </summary>
public sealed class DeadOwnerTakeoverTests(PostgreSqlDatabase database, ITestOutputHelper output) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly TimeSpan HolderLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TakeoverLimit = TimeSpan.FromSeconds(10);
    private const int Keys = 20;

    [Fact]
    public async Task LeaderKilledWithSigkillWhileHoldingClaims_TheSurvivorTakesEveryKeyOverWithinSecondsNotTheLease()
    {
        await using var schema = database.NewSchema();
        await using var store = schema.Store(); // the default poll interval (1 s): the figure is what a deployment gets
        await store.MigrateAsync();
        await using var holder = LeaseHolderProcess.Start(schema, "test", "evt", HolderLease, Keys);
        Assert.Equal(Keys, await holder.Holding.Within());
        var holderTokens = await schema.ScalarAsync<long>($"SELECT max(fencing_token) FROM {schema.QualifiedTable}");
        Assert.Equal(Keys, await schema.CountAsync("status = 'claimed' AND owner_instance IS NOT NULL"));

        var contexts = new ConcurrentDictionary<string, (long? Token, bool TakesOver)>();
        await using var survivor = Dedup.Create(store, (job, context, _) =>
        {
            contexts[job.Key] = (context.FencingToken, context.TakesOver);
            return ValueTask.FromResult($"charged by the survivor for {job.Key}");
        });
        var calls = Enumerable.Range(1, Keys).Select(i => survivor.EnqueueAsync(new Job($"evt-{i}", "the redelivery")).AsTask()).ToArray();
        await Watchdog.Until(() => store.Waiters == Keys, "the survivor waits on every key the holder claimed");
        Assert.Empty(contexts);

        var clock = Stopwatch.StartNew();
        await holder.KillAsync();
        var outcomes = await Task.WhenAll(calls).Within();
        var takeover = clock.Elapsed;

        var figure = $"Takeover after SIGKILL: {Keys} keys with a {HolderLease.TotalSeconds:F0} s lease taken over in {takeover.TotalSeconds:F2} s";
        output.WriteLine(figure);
        Console.WriteLine(figure);
        Assert.True(takeover < TakeoverLimit, figure);
        Assert.All(outcomes, o => Assert.Equal(JobRole.Leader, o.Role));
        Assert.Equal(Keys, contexts.Count);
        Assert.All(contexts.Values, c =>
        {
            Assert.True(c.TakesOver, "a run after a dead owner says it takes over");
            Assert.True(c.Token > holderTokens, $"the takeover's token {c.Token} must be larger than the dead leader's {holderTokens}");
        });
        Assert.Equal(Keys, await schema.CountAsync("status = 'completed' AND taken_over_from IS NOT NULL"));
    }

    [Fact]
    public async Task HolderAlive_ClaimIsNotTakenOver_EvenWhenTheSurvivorReadsItManyTimes()
    {
        await using var schema = database.NewSchema();
        await using var holderStore = schema.Store();
        await using var survivorStore = schema.Store(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        var gate = new Gate();
        await using var holder = Dedup.Create(holderStore, async (job, _, ct) =>
        {
            await gate.WaitAsync(ct);
            return "the holder's";
        });
        var runs = 0;
        await using var survivor = Dedup.Create(survivorStore, (_, _, _) =>
        {
            Interlocked.Increment(ref runs);
            return ValueTask.FromResult("the survivor's");
        });

        var held = holder.EnqueueAsync(new Job("k", "first")).AsTask();
        await Watchdog.Until(() => gate.Arrivals == 1, "the holder runs the key");
        var waiting = survivor.EnqueueAsync(new Job("k", "duplicate")).AsTask();
        await Watchdog.Until(() => survivorStore.WaitReads >= 20, "the survivor read the live claim twenty times");

        Assert.False(waiting.IsCompleted);
        gate.Open();
        Assert.Equal("the holder's", (await held.Within()).Value);
        var shared = await waiting.Within();
        Assert.Equal("the holder's", shared.Value);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task StoreOnTheApplicationsDataSource_HoldsItsInstanceLockThere_AndReleasesItWhenDisposed()
    {
        await using var schema = database.NewSchema();
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(schema.ConnectionString);
        var holder = new PostgreSqlOutcomeStore<string>(schema.Options(o => (o.ConnectionString, o.DataSource) = (string.Empty, dataSource)));
        await using var survivor = schema.Store();
        var held = await holder.TryClaimAsync("s", "k", "holder", null, TimeSpan.FromMinutes(5), default);
        Assert.NotNull(holder.Instance);
        Assert.Equal(holder.Instance, await schema.ScalarAsync<int>($"SELECT owner_instance FROM {schema.QualifiedTable}"));
        Assert.Equal(ClaimState.Busy, (await survivor.TryClaimAsync("s", "k", "survivor", null, TimeSpan.FromMinutes(5), default)).State);

        // The lock's connection goes back to the application's pool, still open: the store must have unlocked it.
        await holder.DisposeAsync();
        var taken = await survivor.TryClaimAsync("s", "k", "survivor", null, TimeSpan.FromMinutes(5), default);

        Assert.Equal(ClaimState.Claimed, taken.State);
        Assert.True(taken.TakesOver);
        Assert.True(taken.FencingToken > held.FencingToken);
    }
}
