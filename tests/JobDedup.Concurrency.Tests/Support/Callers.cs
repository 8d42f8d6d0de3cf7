using Microsoft.Coyote.Specifications;

namespace JobDedup.Concurrency.Tests.Support;

/// <summary>Starts callers on their own tasks and checks the outcomes they get.</summary>
internal static class Callers
{
    /// <summary>Deduplicator options for the schedule tests: no retry, no timeout (so no timer), no window.</summary>
    public static JobDedupOptions<int> Options(TimeSpan? retention = null) => new()
    {
        Name = "coyote",
        MaxRetryAttempts = 0,
        DedupeWindow = retention ?? TimeSpan.Zero,
        ShutdownTimeout = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Calls <c>EnqueueAsync</c> from a task of its own.</summary>
    /// <remarks>
    /// The lambda awaits the outcome rather than handing its task back: Coyote 1.7.11 does not see a task completion
    /// source's task complete through <c>Task.Run</c> or <c>Task.WhenAll</c>, only through an <c>await</c>.
    /// </remarks>
    public static Task<JobOutcome<int>> Enqueue(IJobDeduplicator<int, int> deduplicator, string key, int job, CancellationToken cancellationToken = default) =>
        Task.Run(async () => await deduplicator.EnqueueAsync(key, job, cancellationToken));

    /// <summary>
    /// Asserts that the caller got an outcome of its own key that it may get: the value of a run that really
    /// happened, or, when it could leave, its cancellation.
    /// </summary>
    public static void AssertOutcome(JobOutcome<int> outcome, string key, int runs, bool mayBeCanceled)
    {
        Specification.Assert(outcome.Key == key, "a caller of key '{0}' got an outcome for key '{1}'", key, outcome.Key);
        if (outcome.Status == JobStatus.Canceled && mayBeCanceled)
        {
            return;
        }

        Specification.Assert(
            outcome.Status == JobStatus.Succeeded,
            "a caller of key '{0}' got {1} instead of the run's value",
            key,
            outcome.ToString());
        Specification.Assert(
            outcome.Value >= 1 && outcome.Value <= runs,
            "a caller of key '{0}' got value {1}, which no run produced ({2} runs)",
            key,
            outcome.Value,
            runs);
    }

    /// <summary>Asserts that no run was delivered to two callers as their leader.</summary>
    public static void AssertOneLeaderPerRun(IEnumerable<JobOutcome<int>> outcomes)
    {
        var leaders = outcomes
            .Where(static o => o.IsSucceeded && o.Role == JobRole.Leader)
            .GroupBy(static o => o.Value)
            .FirstOrDefault(static g => g.Count() > 1);
        Specification.Assert(leaders is null, "run {0} was delivered to more than one caller as its leader", leaders?.Key ?? 0);
    }
}
