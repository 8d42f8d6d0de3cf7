using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace JobDedup.PostgreSql.Health;

/// <summary>Healthy while the outcome store's database answers; unhealthy (by default) while it cannot be reached.</summary>
internal sealed class PostgreSqlOutcomeStoreHealthCheck<TResult>(string name, PostgreSqlOutcomeStore<TResult> store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["server"] = store.Server,
            ["table"] = store.TableName,
        };
        try
        {
            await store.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The outcome store of '{name}' answers at {store.Server}.", data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The outcome store of '{name}' cannot reach PostgreSQL at {store.Server}: {ex.Message}",
                data: data);
        }
    }
}
