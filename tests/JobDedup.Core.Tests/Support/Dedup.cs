using Microsoft.Extensions.Logging;

namespace JobDedup.Core.Tests.Support;

public sealed record Job(string Key, string Payload);

/// <summary>Builds deduplicators for tests: no retries and no retry delay unless a test asks for them.</summary>
public static class Dedup
{
    public static JobDeduplicator<Job, string> Create(
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<Job>>? configure = null,
        TimeProvider? timeProvider = null,
        IOutcomeStore<string>? store = null,
        ILoggerFactory? loggerFactory = null)
    {
        var options = new JobDedupOptions<Job>
        {
            Name = "test",
            KeySelector = job => job.Key,
            MaxRetryAttempts = 0,
            RetryDelay = TimeSpan.Zero,
            RetryJitter = false,
        };
        configure?.Invoke(options);
        return new JobDeduplicator<Job, string>(handler, options, loggerFactory, timeProvider, store);
    }
}
