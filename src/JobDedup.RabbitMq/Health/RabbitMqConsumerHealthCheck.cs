using JobDedup.RabbitMq.Consuming;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.RabbitMq.Health;

/// <summary>
/// Healthy while the consumer runs on an open connection; failing while it reconnects, and while its intake is paused
/// because the deduplicator's outcome store is unavailable.
/// </summary>
internal sealed class RabbitMqConsumerHealthCheck<TJob, TResult>(RabbitMqConsumer<TJob, TResult> consumer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["state"] = consumer.State.ToString(),
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
            _ => new HealthCheckResult(context.Registration.FailureStatus, $"Consumer '{consumer.Name}' is {consumer.State.ToString().ToLowerInvariant()}.", data: data),
        };
        return Task.FromResult(result);
    }
}
