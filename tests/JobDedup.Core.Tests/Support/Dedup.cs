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

    /// <summary>A deduplicator on a claiming store: outcomes kept for an hour, claims leased for 30 seconds.</summary>
    public static JobDeduplicator<Job, string> OnClaims(
        ScriptableOutcomeStore<string> store,
        TimeProvider time,
        Func<Job, JobContext, CancellationToken, ValueTask<string>> handler,
        Action<JobDedupOptions<Job>>? configure = null) =>
        Create(
            handler,
            o =>
            {
                o.DedupeWindow = TimeSpan.FromHours(1);
                o.ClaimLease = TimeSpan.FromSeconds(30);
                configure?.Invoke(o);
            },
            time,
            store);
}
