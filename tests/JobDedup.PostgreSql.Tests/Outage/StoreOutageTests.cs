using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;

namespace JobDedup.PostgreSql.Tests.Outage;

/// <summary>The real PostgreSQL reached through a <see cref="TcpFaultProxy"/> that the test cuts (never the shared server).</summary>
public sealed class StoreOutageTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task EnqueueAsync_PostgreSqlCutWhileTheHandlerRuns_DuplicatesHereGetTheOutcomeAndItLandsOnceTheServerIsBack()
    {
        await using var schema = database.NewSchema();
        await using var proxy = PostgreSqlFaults.ProxyFor(database.ConnectionString);
        await using var store = schema.Store(o => o.ConnectionString = PostgreSqlFaults.ThroughProxy(database.ConnectionString, proxy));
        await using var direct = schema.Store();

        await StoreOutageContract.CutWhileTheHandlerRuns_KeepsTheOutcomeHereAndLandsItOnRestoreAsync(store, proxy, direct);
        Assert.Equal(1, await schema.CountAsync("status = 'completed'"));
    }

    [Fact]
    public async Task EnqueueAsync_PostgreSqlRefusesConnections_JobsAreUnavailableWithoutRunningUntilItAnswersAgain()
    {
        await using var schema = database.NewSchema();
        await using (var migrate = schema.Store())
        {
            await migrate.MigrateAsync(CancellationToken.None);
        }

        await using var proxy = PostgreSqlFaults.ProxyFor(database.ConnectionString);
        await using var store = schema.Store(o => o.ConnectionString = PostgreSqlFaults.ThroughProxy(database.ConnectionString, proxy));
        var runs = 0;
        await using var dedup = Dedup.Create(
            store,
            (job, _, _) =>
            {
                Interlocked.Increment(ref runs);
                return ValueTask.FromResult("done " + job.Key);
            },
            o => o.StoreBreakDuration = TimeSpan.FromSeconds(1));

        proxy.Cut();
        var outcomes = new List<JobOutcome<string>>();
        for (var i = 0; i < 20; i++)
        {
            outcomes.Add(await dedup.EnqueueAsync(new Job($"k{i}", "x")).Within());
        }

        Assert.All(outcomes, o => Assert.Equal(JobStatus.Unavailable, o.Status));
        Assert.Contains(outcomes, o => ((OutcomeStoreUnavailableException)o.Exception!).IsCircuitOpen);
        Assert.Equal(0, runs);
        Assert.Equal(0, dedup.GetStats().Errors);
        Assert.NotEqual(OutcomeStoreState.Available, dedup.StoreState);

        proxy.Restore();
        await Watchdog.Until(() => dedup.StoreState == OutcomeStoreState.Available, "the breaker's trial call found the server again");
        var after = await dedup.EnqueueAsync(new Job("k0", "x")).Within();
        Assert.Equal((JobStatus.Succeeded, "done k0"), (after.Status, after.Value));
        Assert.Equal(1, runs);
    }
}
