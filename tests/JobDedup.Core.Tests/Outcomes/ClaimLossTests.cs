using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Outcomes;

/// <summary>
/// A claim lost while its handler runs (the store says another claim holds the key, or renewals failed for the whole
/// lease) cancels the handler's token; its callers get Canceled with a <see cref="ClaimLostException"/>, and its
/// outcome is not kept.
/// </summary>
public sealed class ClaimLossTests
{
    [Fact]
    public async Task RenewalRefusedBecauseAnotherInstanceTookTheKey_CancelsTheHandler_AndTheNewOwnersOutcomeIsTheOneKept()
    {
        var time = new TimerCountingTimeProvider();
        var memory = new MemoryClaimingStore<string>(time);
        var store = new ScriptableOutcomeStore<string>(memory);
        var gate = new Gate();
        var handlerToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dedup = Dedup.OnClaims(store, time, async (_, _, ct) =>
        {
            handlerToken.TrySetResult(ct);
            await gate.WaitAsync(ct);
            return "the first owner's";
        });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        var token = await handlerToken.Task.Within();

        // The store saw this instance as dead (it stalled, say) and another one took the key.
        memory.KillOwner(memory.OwnerOf("test", "k")!);
        var successor = await store.TryClaimAsync("test", "k", "successor", null, TimeSpan.FromSeconds(30), default);
        Assert.True(successor.TakesOver);
        Assert.False(token.IsCancellationRequested);

        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(10));
        var outcome = await call.Within();

        Assert.True(token.IsCancellationRequested, "the handler's token fired");
        Assert.Equal(JobStatus.Canceled, outcome.Status);
        var lost = Assert.IsType<ClaimLostException>(outcome.Exception);
        Assert.Contains("no longer held", lost.Message);
        Assert.Equal(0, store.CountOf(StoreOperation.Complete));

        Assert.True(await store.CompleteAsync("test", "k", successor.FencingToken, new StoredOutcome<string>("the successor's", 1, time.GetUtcNow()), TimeSpan.FromHours(1), default));
        var again = await dedup.EnqueueAsync(new Job("k", "B")).Within();
        Assert.Equal((JobRole.Replayed, "the successor's"), (again.Role, again.Value));
    }

    [Fact]
    public async Task RenewalsFailForTheWholeLease_CancelTheHandlerOnlyOnceTheLeaseHasRunOut()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        store.Throw(StoreOperation.Renew, new TimeoutException("The store did not answer."));
        var gate = new Gate();
        var handlerToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var dedup = Dedup.OnClaims(store, time, async (_, _, ct) =>
        {
            handlerToken.TrySetResult(ct);
            await gate.WaitAsync(ct);
            return "done";
        });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        var token = await handlerToken.Task.Within();
        for (var i = 1; i <= 2; i++)
        {
            await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
            time.Advance(TimeSpan.FromSeconds(10));
            await Watchdog.Until(() => store.CountOf(StoreOperation.Renew) == i, $"renewal {i} failed");
        }

        // 20 s of a 30 s lease: the claim may still hold, so the handler runs on.
        Assert.False(token.IsCancellationRequested);
        Assert.False(call.IsCompleted);

        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(10));
        var outcome = await call.Within();

        Assert.Equal(3, store.CountOf(StoreOperation.Renew));
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(JobStatus.Canceled, outcome.Status);
        var lost = Assert.IsType<ClaimLostException>(outcome.Exception);
        // The renewal failure, as the store's circuit breaker reports it, with the store's own failure inside.
        var unavailable = Assert.IsType<OutcomeStoreUnavailableException>(lost.InnerException);
        Assert.IsType<TimeoutException>(unavailable.InnerException);
        Assert.Equal(0, store.CountOf(StoreOperation.Complete));

        // Nobody took the key meanwhile: the lost claim is released (under its token), and the next caller runs it.
        await Watchdog.Until(() => store.CountOf(StoreOperation.Release) == 1, "the flight gives its claim up once its handler ended");
        Assert.Equal(ClaimState.Claimed, (await store.TryClaimAsync("test", "k", "next", null, TimeSpan.FromSeconds(30), default)).State);
    }

    [Fact]
    public async Task HandlerIgnoresItsToken_CallersGetClaimLostAtOnce_AndItsLateValueIsNotKept()
    {
        var time = new TimerCountingTimeProvider();
        var memory = new MemoryClaimingStore<string>(time);
        var store = new ScriptableOutcomeStore<string>(memory);
        var gate = new Gate();
        var runs = new RunTracker();
        await using var dedup = Dedup.OnClaims(store, time, async (_, _, _) =>
        {
            var run = runs.Start();
            try
            {
                await gate.WaitAsync(CancellationToken.None);
                return "late";
            }
            finally
            {
                runs.End(run);
            }
        });

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        memory.KillOwner(memory.OwnerOf("test", "k")!);
        var successor = await store.TryClaimAsync("test", "k", "successor", null, TimeSpan.FromSeconds(30), default);
        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(10));

        var outcome = await call.Within();
        Assert.Equal(JobStatus.Canceled, outcome.Status);
        Assert.IsType<ClaimLostException>(outcome.Exception);
        Assert.Equal(1, runs.Running);

        gate.Open();
        await Watchdog.Until(() => runs.Running == 0, "the ignored handler ends");
        await Watchdog.Until(() => store.CountOf(StoreOperation.Release) == 1, "the flight gives its claim up once its handler ended");
        Assert.Equal(0, store.CountOf(StoreOperation.Complete));
        Assert.Null(await store.TryGetAsync("test", "k", default));
        Assert.True(await store.RenewAsync("test", "k", successor.FencingToken, TimeSpan.FromSeconds(30), default), "the successor still holds the key");
    }

    [Fact]
    public async Task ClaimRenewInterval_SetsHowOftenTheClaimIsRenewed()
    {
        var time = new TimerCountingTimeProvider();
        var store = new ScriptableOutcomeStore<string>(time);
        var gate = new Gate();
        await using var dedup = Dedup.OnClaims(
            store,
            time,
            async (_, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return "done";
            },
            o => o.ClaimRenewInterval = TimeSpan.FromSeconds(2));

        var call = dedup.EnqueueAsync(new Job("k", "A")).AsTask();
        await gate.Reached.Within();
        await Watchdog.Until(() => time.PendingTimers > 0, "the renewal timer is armed");
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(0, store.CountOf(StoreOperation.Renew));
        time.Advance(TimeSpan.FromSeconds(0.1));
        await Watchdog.Until(() => store.CountOf(StoreOperation.Renew) == 1, "renewed after 2 s");
        gate.Open();

        Assert.Equal("done", (await call.Within()).Value);
    }

    [Theory]
    [InlineData(30, 30)]
    [InlineData(30, 40)]
    [InlineData(30, 0.05)]
    public void ClaimRenewInterval_NotShorterThanTheLeaseOrTooShort_IsRefusedNamingTheSetting(double leaseSeconds, double renewSeconds)
    {
        var options = new JobDedupOptions<Job>
        {
            ClaimLease = TimeSpan.FromSeconds(leaseSeconds),
            ClaimRenewInterval = TimeSpan.FromSeconds(renewSeconds),
        };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith(nameof(JobDedupOptions<Job>.ClaimRenewInterval), error);
    }
}
