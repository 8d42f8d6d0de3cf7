using System.Diagnostics;

namespace JobDedup.OpenTelemetry.Tests;

/// <summary>Runs alone: a throwing listener listens process-wide and would break the other tests' spans.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThrowingListenerCollection
{
    public const string Name = "throwing listener";
}

[Collection(ThrowingListenerCollection.Name)]
public sealed class ThrowingListenerTests
{
    [Fact]
    public async Task EnqueueAsync_ActivityListenerThrows_EveryCallerStillGetsTheRealOutcome()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == JobDedupTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ => throw new InvalidOperationException("listener bug"),
            ActivityStopped = _ => throw new InvalidOperationException("listener bug"),
        };
        ActivitySource.AddActivityListener(listener);

        var gate = new Gate();
        await using var dedup = new JobDeduplicator<string, string>(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return job + "!";
            },
            new JobDedupOptions<string> { Name = $"throwing-{Guid.NewGuid():N}", KeySelector = j => j, MaxRetryAttempts = 0 });

        // Every caller is "traced": the activity a caller has when it enqueues is what the engine links to.
        using var caller = new Activity("caller").Start();
        var leader = dedup.EnqueueAsync("k").AsTask();
        await gate.Reached.Within();
        var joiner = dedup.EnqueueAsync("k").AsTask();
        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the joiner joined");
        gate.Open();

        var outcomes = await Task.WhenAll(leader, joiner).Within();
        Assert.All(outcomes, o => Assert.Equal("k!", o.Value));
        Assert.Equal([JobRole.Leader, JobRole.Joined], outcomes.Select(o => o.Role));
        Assert.Equal(1, outcomes[0].Attempts);
    }
}
