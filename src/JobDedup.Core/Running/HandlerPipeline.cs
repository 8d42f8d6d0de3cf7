using Polly;
using Polly.Retry;

namespace JobDedup.Running;

/// <summary>Builds the resilience pipeline a handler runs in from the deduplicator's options.</summary>
internal static class HandlerPipeline
{
    public static ResiliencePipeline Create<TJob>(JobDedupOptions<TJob> options, TimeProvider timeProvider, Action<OnRetryArguments<object>> onRetry)
    {
        if (options.ResiliencePipeline is { } custom)
        {
            return custom;
        }

        if (options.MaxRetryAttempts == 0 && options.AttemptTimeout is null)
        {
            return ResiliencePipeline.Empty;
        }

        var shouldRetry = options.ShouldRetry;
        var isPermanent = options.IsPermanentFailure;
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider, Name = options.Name };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.RetryJitter,
                Delay = options.RetryDelay,
                MaxDelay = options.RetryMaxDelay,

                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => IsWorthRetrying(ex, isPermanent, shouldRetry)),
                OnRetry = args =>
                {
                    onRetry(args);
                    return default;
                },
            });
        }

        // Added after the retry, so the limit applies to each attempt rather than to the flight.
        if (options.AttemptTimeout is { } timeout)
        {
            builder.AddTimeout(timeout);
        }

        return builder.Build();
    }

    /// <summary>
    /// Whether a failed attempt is retried in the flight. A cancellation means every caller left or the deduplicator is
    /// stopping, and a stuck handler may still be running: neither is worth a retry; nor is a permanent failure, which
    /// would recur.
    /// </summary>
    internal static bool IsWorthRetrying(Exception exception, Func<Exception, bool>? isPermanent, Func<Exception, bool>? shouldRetry) =>
        exception is not OperationCanceledException and not HandlerStuckException
        && !FailureClassification.IsPermanent(isPermanent, exception, out _)
        && (shouldRetry?.Invoke(exception) ?? true);
}
