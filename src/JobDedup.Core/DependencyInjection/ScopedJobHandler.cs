using Microsoft.Extensions.DependencyInjection;

namespace JobDedup.DependencyInjection;

/// <summary>Resolves the handler in a fresh scope for every attempt, so handlers may depend on scoped services.</summary>
internal sealed class ScopedJobHandler<TJob, TResult, THandler>(IServiceScopeFactory scopes) : IJobHandler<TJob, TResult>
    where THandler : class, IJobHandler<TJob, TResult>
{
    public async ValueTask<TResult> HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var handler = scope.ServiceProvider.GetRequiredService<THandler>();
            return await handler.HandleAsync(job, context, cancellationToken).ConfigureAwait(false);
        }
    }
}
