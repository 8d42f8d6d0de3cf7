using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.Redis.Health;

/// <summary>Healthy while the outcome store's Redis answers a ping; unhealthy (by default) while it cannot be reached.</summary>
internal sealed class RedisOutcomeStoreHealthCheck<TResult>(string name, RedisOutcomeStore<TResult> store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["server"] = store.Server,
            ["prefix"] = store.Prefix,
        };
        try
        {
            await store.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The outcome store of '{name}' answers at {store.Server}.", data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The outcome store of '{name}' cannot reach Redis at {store.Server}: {ex.Message}",
                data: data);
        }
    }
}
