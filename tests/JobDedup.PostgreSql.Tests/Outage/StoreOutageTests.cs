using JobDedup.PostgreSql.Tests.Support;
using JobDedup.Testing.Contracts;
using Npgsql;

namespace JobDedup.PostgreSql.Tests.Outage;

/// <summary>The real PostgreSQL reached through a <see cref="TcpFaultProxy"/> that the test cuts (never the shared server).</summary>
public sealed class StoreOutageTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task EnqueueAsync_PostgreSqlCutWhileTheHandlerRuns_DuplicatesHereGetTheOutcomeAndItLandsOnceTheServerIsBack()
    {
        await using var schema = database.NewSchema();
        await using var proxy = StartProxy();
        await using var store = schema.Store(o => o.ConnectionString = ThroughProxy(proxy));
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            store,
            async (job, _, ct) =>
            {
                Interlocked.Increment(ref runs);
                await gate.WaitAsync(ct);
                return "charged " + job.Payload;
            },
            o => o.StoreBreakDuration = TimeSpan.FromSeconds(1));

        var call = dedup.EnqueueAsync(new Job("evt_1", "A")).AsTask();
        await gate.Reached.Within();
        proxy.Cut();
        gate.Open();

        var led = await call.Within();
        var duplicate = await dedup.EnqueueAsync(new Job("evt_1", "B")).Within();
        Assert.Equal((JobStatus.Succeeded, JobRole.Leader, "charged A"), (led.Status, led.Role, led.Value));
        Assert.Equal((JobRole.Replayed, "charged A"), (duplicate.Role, duplicate.Value));
        Assert.Equal(0, await schema.CountAsync("status = 'completed'")); // not durable yet: the server is out of reach

        proxy.Restore();
        await Watchdog.Until(async () => await schema.CountAsync("status = 'completed'") == 1, "the completion landed once the server was back");

        // Another instance, on a direct connection, now replays it as well.
        await using var otherStore = schema.Store();
        await using var other = Dedup.Create(otherStore, (_, _, _) => ValueTask.FromResult("must not run"));
        var elsewhere = await other.EnqueueAsync(new Job("evt_1", "C")).Within();
        Assert.Equal((JobRole.Replayed, "charged A"), (elsewhere.Role, elsewhere.Value));
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task EnqueueAsync_PostgreSqlRefusesConnections_JobsAreUnavailableWithoutRunningUntilItAnswersAgain()
    {
        await using var schema = database.NewSchema();
        await using (var migrate = schema.Store())
        {
            await migrate.MigrateAsync(CancellationToken.None);
        }

        await using var proxy = StartProxy();
        await using var store = schema.Store(o => o.ConnectionString = ThroughProxy(proxy));
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

    private TcpFaultProxy StartProxy()
    {
        var direct = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        return TcpFaultProxy.Start(direct.Host ?? "127.0.0.1", direct.Port);
    }

    private string ThroughProxy(TcpFaultProxy proxy) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Host = proxy.Host,
            Port = proxy.Port,
            Timeout = 2,
            CommandTimeout = 2,
            CancellationTimeout = 500,
        }.ConnectionString;
}
