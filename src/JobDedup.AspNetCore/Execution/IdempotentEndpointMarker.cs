namespace JobDedup.AspNetCore.Execution;

/// <summary>Endpoint metadata saying that the endpoint is already idempotent, so that it is not wrapped twice.</summary>
internal sealed class IdempotentEndpointMarker
{
    public static IdempotentEndpointMarker Instance { get; } = new();
}
