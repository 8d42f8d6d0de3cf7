namespace JobDedup.Testing.Contracts;

/// <summary>A job of the outcome-store tests: its key, and what the handler is given.</summary>
public sealed record Job(string Key, string Payload);

/// <summary>Builds deduplicators on a store for tests: no retries, a dedupe window of an hour, unless a test asks otherwise.</summary>
public static class Dedup
{
    public static JobDeduplicator<Job, string> Create(
        IOutcomeStore<string> store,
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<Job>>? configure = null)
    {
        var options = new JobDedupOptions<Job>
        {
            Name = "test",
            KeySelector = job => job.Key,
            MaxRetryAttempts = 0,
            RetryDelay = TimeSpan.Zero,
            RetryJitter = false,
            DedupeWindow = TimeSpan.FromHours(1),
        };
        configure?.Invoke(options);
        return new JobDeduplicator<Job, string>(handler, options, outcomeStore: store);
    }
}
