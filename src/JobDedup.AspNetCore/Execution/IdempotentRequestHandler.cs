namespace JobDedup.AspNetCore.Execution;

/// <summary>The engine's handler for HTTP requests: it runs the leading request's endpoint in that request's context.</summary>
internal sealed class IdempotentRequestHandler : IJobHandler<IdempotentRequest, IdempotentResponse>
{
    public static IdempotentRequestHandler Instance { get; } = new();

    public ValueTask<IdempotentResponse> HandleAsync(IdempotentRequest job, JobContext context, CancellationToken cancellationToken) =>
        job.RunAsync(cancellationToken);
}
