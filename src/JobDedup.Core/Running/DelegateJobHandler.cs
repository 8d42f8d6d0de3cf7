namespace JobDedup.Running;

/// <summary>Adapts a delegate to <see cref="IJobHandler{TJob, TResult}"/>.</summary>
internal sealed class DelegateJobHandler<TJob, TResult>(Func<TJob, JobContext, CancellationToken, ValueTask<TResult>> handler)
    : IJobHandler<TJob, TResult>
{
    public ValueTask<TResult> HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken) =>
        handler(job, context, cancellationToken);
}
