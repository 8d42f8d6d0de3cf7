using System.Diagnostics;
using JobDedup.OpenTelemetry.Tests.Support;

namespace JobDedup.OpenTelemetry.Tests;

public sealed class TraceTests
{
    [Fact]
    public async Task HandleSpan_LeaderAndLateJoiner_IsTheLeadersChildAndTheJoinersSpanLinksToIt()
    {
        using var recorded = new Recorded();
        var name = $"trace-{Guid.NewGuid():N}";
        var gate = new Gate();
        await using var dedup = new JobDeduplicator<string, string>(
            async (job, _, ct) =>
            {
                await gate.WaitAsync(ct);
                return job;
            },
            new JobDedupOptions<string> { Name = name, KeySelector = j => j, MaxRetryAttempts = 0 });

        Task<JobOutcome<string>> leader;
        ActivityContext leaderRequest;
        using (var request = Recorded.Callers.StartActivity("leader-request", ActivityKind.Server, parentContext: default))
        {
            leaderRequest = request!.Context;
            leader = dedup.EnqueueAsync("k").AsTask();
        }

        await gate.Reached.Within(); // the run has started: this joiner comes after its span began

        Task<JobOutcome<string>> joiner;
        ActivityContext joinerRequest;
        using (var request = Recorded.Callers.StartActivity("joiner-request", ActivityKind.Server, parentContext: default))
        {
            joinerRequest = request!.Context;
            joiner = dedup.EnqueueAsync("k").AsTask();
        }

        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the joiner joined");
        gate.Open();
        Assert.Equal(JobRole.Leader, (await leader.Within()).Role);
        Assert.Equal(JobRole.Joined, (await joiner.Within()).Role);
        Assert.NotEqual(leaderRequest.TraceId, joinerRequest.TraceId);

        var handle = Assert.Single(recorded.Spans(leaderRequest.TraceId), s => s.OperationName == JobDedupTelemetry.HandleSpan);
        Assert.Equal(leaderRequest.SpanId, handle.ParentSpanId);
        Assert.Equal(name, handle.GetTagItem(JobDedupTelemetry.DeduplicatorTag));

        var join = Assert.Single(recorded.Spans(joinerRequest.TraceId), s => s.OperationName == JobDedupTelemetry.JoinSpan);
        Assert.Equal(joinerRequest.SpanId, join.ParentSpanId);
        var link = Assert.Single(join.Links);
        Assert.Equal(handle.TraceId, link.Context.TraceId);
        Assert.Equal(handle.SpanId, link.Context.SpanId);
        Assert.Equal("joined", join.GetTagItem(JobDedupTelemetry.RoleTag));
        Assert.Equal("succeeded", join.GetTagItem(JobDedupTelemetry.StatusTag));
    }

    [Fact]
    public async Task HandleSpan_CallerJoinedBeforeTheRunStarted_LinksToThatCallersTrace()
    {
        using var recorded = new Recorded();
        var name = $"trace-early-{Guid.NewGuid():N}";
        var busy = new Gate();
        await using var dedup = new JobDeduplicator<string, string>(
            async (job, _, ct) =>
            {
                if (job == "busy")
                {
                    await busy.WaitAsync(ct);
                }

                return job;
            },
            new JobDedupOptions<string> { Name = name, KeySelector = j => j, MaxRetryAttempts = 0, MaxConcurrentHandlers = 1 });

        // The one handler slot is taken, so the flight for "k" waits with both callers attached before its run starts.
        var holder = dedup.EnqueueAsync("busy").AsTask();
        await busy.Reached.Within();

        Task<JobOutcome<string>> leader, joiner;
        ActivityContext leaderRequest, joinerRequest;
        using (var request = Recorded.Callers.StartActivity("leader-request", ActivityKind.Server, parentContext: default))
        {
            leaderRequest = request!.Context;
            leader = dedup.EnqueueAsync("k").AsTask();
        }

        using (var request = Recorded.Callers.StartActivity("joiner-request", ActivityKind.Server, parentContext: default))
        {
            joinerRequest = request!.Context;
            joiner = dedup.EnqueueAsync("k").AsTask();
        }

        await Watchdog.Until(() => dedup.GetStats().Hits == 1, "the joiner joined the pending flight");
        busy.Open();
        await Task.WhenAll(holder, leader, joiner).Within();

        var handle = Assert.Single(recorded.Spans(leaderRequest.TraceId), s => s.OperationName == JobDedupTelemetry.HandleSpan);
        Assert.Equal(leaderRequest.SpanId, handle.ParentSpanId);
        var join = Assert.Single(recorded.Spans(joinerRequest.TraceId), s => s.OperationName == JobDedupTelemetry.JoinSpan);

        // Both ways: the run links to the joiner's span, and the joiner's span links to the run.
        var toJoiner = Assert.Single(handle.Links);
        Assert.Equal(join.TraceId, toJoiner.Context.TraceId);
        Assert.Equal(join.SpanId, toJoiner.Context.SpanId);
        Assert.Equal(handle.SpanId, Assert.Single(join.Links).Context.SpanId);
    }

    [Fact]
    public async Task ReplayedCaller_AnsweredFromTheWindow_GetsAReplaySpanInItsTrace()
    {
        using var recorded = new Recorded();
        var name = $"trace-replay-{Guid.NewGuid():N}";
        await using var dedup = new JobDeduplicator<string, string>(
            (job, _, _) => ValueTask.FromResult(job),
            new JobDedupOptions<string> { Name = name, KeySelector = j => j, MaxRetryAttempts = 0, DedupeWindow = TimeSpan.FromMinutes(5) });
        Assert.Equal(JobRole.Leader, (await dedup.EnqueueAsync("k").Within()).Role);

        ActivityContext replayRequest;
        using (var request = Recorded.Callers.StartActivity("replay-request", ActivityKind.Server, parentContext: default))
        {
            replayRequest = request!.Context;
            Assert.Equal(JobRole.Replayed, (await dedup.EnqueueAsync("k").Within()).Role);
        }

        var replay = Assert.Single(recorded.Spans(replayRequest.TraceId), s => s.OperationName == JobDedupTelemetry.ReplaySpan);
        Assert.Equal(replayRequest.SpanId, replay.ParentSpanId);
        Assert.Equal("replayed", replay.GetTagItem(JobDedupTelemetry.RoleTag));
        Assert.DoesNotContain(recorded.Spans(replayRequest.TraceId), s => s.OperationName == JobDedupTelemetry.HandleSpan);
    }
}
