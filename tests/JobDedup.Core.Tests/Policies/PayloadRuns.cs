using JobDedup.Core.Tests.Support;

namespace JobDedup.Core.Tests.Policies;

/// <summary>
/// A deduplicator for the policy tests whose handler records each run's payload (and whether its leader changed),
/// returns <c>ran-{payload}</c>, and holds the runs of the gated payloads: the first gated payload at
/// <see cref="FirstRun"/>, the second at <see cref="SecondRun"/>.
/// </summary>
internal sealed class PayloadRuns(params string[] gated)
{
    private readonly List<(string Payload, bool LeaderChanged)> _ran = [];

    public Gate FirstRun { get; } = new();

    public Gate SecondRun { get; } = new();

    public RunTracker Tracker { get; } = new();

    /// <summary>Gets a value indicating whether a gated run ends when its token fires; when not, only its gate ends it.</summary>
    public bool WatchesToken { get; init; } = true;

    /// <summary>Gets the payloads run, in order.</summary>
    public IReadOnlyList<string> Ran => [.. Runs.Select(static r => r.Payload)];

    /// <summary>Gets the payloads run with whether each run's leader had changed.</summary>
    public IReadOnlyList<(string Payload, bool LeaderChanged)> Runs
    {
        get
        {
            lock (_ran)
            {
                return [.. _ran];
            }
        }
    }

    public JobDeduplicator<Job, string> Create(
        DuplicatePolicy policy,
        Action<JobDedupOptions<Job>>? configure = null,
        TimeProvider? time = null,
        IOutcomeStore<string>? store = null) =>
        Dedup.Create(
            async (job, context, ct) =>
            {
                var run = Tracker.Start();
                try
                {
                    lock (_ran)
                    {
                        _ran.Add((job.Payload, context.LeaderChanged));
                    }

                    var index = Array.IndexOf(gated, job.Payload);
                    if (index == 0)
                    {
                        await FirstRun.WaitAsync(WatchesToken ? ct : CancellationToken.None);
                    }
                    else if (index == 1)
                    {
                        await SecondRun.WaitAsync(WatchesToken ? ct : CancellationToken.None);
                    }

                    return "ran-" + job.Payload;
                }
                finally
                {
                    Tracker.End(run);
                }
            },
            o =>
            {
                o.OnDuplicate = policy;
                configure?.Invoke(o);
            },
            time,
            store);
}
