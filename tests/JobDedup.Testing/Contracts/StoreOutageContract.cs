namespace JobDedup.Testing.Contracts;

/// <summary>What every durable store must give a deduplicator when its server is cut: run here by each store's suite.</summary>
public static class StoreOutageContract
{
    /// <summary>
    /// The server is cut while a handler runs: the handler's callers get its value, a duplicate here gets it too, the
    /// outcome is not in the store yet; once the link is restored the completion lands, and another instance (on a
    /// direct connection) replays it. The handler ran once.
    /// </summary>
    /// <param name="throughProxy">A store whose connection goes through <paramref name="proxy"/>.</param>
    /// <param name="proxy">The proxy the test cuts.</param>
    /// <param name="direct">A store on the same data, connected directly.</param>
    public static async Task CutWhileTheHandlerRuns_KeepsTheOutcomeHereAndLandsItOnRestoreAsync(
        IOutcomeStore<string> throughProxy,
        TcpFaultProxy proxy,
        IOutcomeStore<string> direct)
    {
        var gate = new Gate();
        var runs = 0;
        await using var dedup = Dedup.Create(
            throughProxy,
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
        Assert.Null(await direct.TryGetAsync(dedup.Name, "evt_1", CancellationToken.None)); // not durable yet

        proxy.Restore();
        await Watchdog.Until(
            async () => await direct.TryGetAsync(dedup.Name, "evt_1", CancellationToken.None) is { Value: "charged A" },
            "the completion landed once the server was back");
        await using var other = Dedup.Create(direct, (_, _, _) => ValueTask.FromResult("must not run"));
        var elsewhere = await other.EnqueueAsync(new Job("evt_1", "C")).Within();
        Assert.Equal((JobRole.Replayed, "charged A"), (elsewhere.Role, elsewhere.Value));
        Assert.Equal(1, runs);
    }
}
