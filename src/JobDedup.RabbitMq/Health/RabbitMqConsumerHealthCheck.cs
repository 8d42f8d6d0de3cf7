using JobDedup.RabbitMq.Consuming;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.RabbitMq.Health;

/// <summary>
/// Healthy while the consumer runs on an open connection; the registration's failure status (Unhealthy by default)
/// while it has not reached the broker since start, reconnects or stops, and while its intake is paused because the
/// deduplicator's outcome store is unavailable.
/// </summary>
internal sealed class RabbitMqConsumerHealthCheck<TJob, TResult>(RabbitMqConsumer<TJob, TResult> consumer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["state"] = consumer.State.ToString(),
            ["activity"] = Activity(consumer),
            ["connected"] = consumer.IsConnected,
            ["consuming"] = consumer.IsConsuming,
            ["pending"] = consumer.Pending,
            ["store"] = consumer.StoreState.ToString(),
        };
        var result = consumer.State switch
        {
            ConsumerState.Running when consumer.StoreState != OutcomeStoreState.Available => new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Consumer '{consumer.Name}' paused its intake: the outcome store is {consumer.StoreState.ToString().ToLowerInvariant()}; it resumes by itself once the store answers.",
                data: data),
            ConsumerState.Running when consumer.IsConsuming => HealthCheckResult.Healthy($"Consumer '{consumer.Name}' is consuming.", data),
            ConsumerState.Running => new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Consumer '{consumer.Name}' is not receiving deliveries (connection or consumer lost); it is trying to consume again.",
                data: data),
            ConsumerState.Connecting => new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Consumer '{consumer.Name}' has not reached the broker yet ({consumer.LastConnectError}); it keeps trying in the background.",
                data: data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, $"Consumer '{consumer.Name}' is {consumer.State.ToString().ToLowerInvariant()}.", data: data),
        };
        return Task.FromResult(result);
    }

    /// <summary>What the consumer does now, in one lower-case word: consuming, paused (the outcome store is unavailable), connecting, stopping or stopped.</summary>
    internal static string Activity(RabbitMqConsumer<TJob, TResult> consumer) => consumer.State switch
    {
        ConsumerState.Running when consumer.IsPaused => "paused",
        ConsumerState.Running when consumer.IsConsuming => "consuming",
        ConsumerState.Running or ConsumerState.Starting => "connecting",
        ConsumerState.Stopping => "stopping",
        _ => "stopped",
    };
}
