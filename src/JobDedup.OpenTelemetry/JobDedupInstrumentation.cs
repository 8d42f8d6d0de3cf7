namespace JobDedup.OpenTelemetry;

/// <summary>
/// The meters and activity sources of every JobDedup package: the engine (JobDedup.Core), the RabbitMQ transport,
/// the PostgreSQL store and the Redis cache. They all publish under <see cref="JobDedupTelemetry.Name"/>, so one
/// name each covers them, and a package added later under the same name is covered too.
/// </summary>
public static class JobDedupInstrumentation
{
    /// <summary>Gets the names of the meters JobDedup records on.</summary>
    public static IReadOnlyList<string> MeterNames { get; } = [JobDedupTelemetry.Name];

    /// <summary>Gets the names of the activity sources JobDedup starts spans from.</summary>
    public static IReadOnlyList<string> ActivitySourceNames { get; } = [JobDedupTelemetry.Name];
}
