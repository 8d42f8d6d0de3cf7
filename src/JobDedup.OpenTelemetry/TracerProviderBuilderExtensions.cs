using JobDedup.OpenTelemetry;

namespace OpenTelemetry.Trace;

/// <summary>Adds JobDedup's spans to an OpenTelemetry tracer provider.</summary>
public static class TracerProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to every JobDedup activity source (<see cref="JobDedupInstrumentation.ActivitySourceNames"/>): the
    /// engine's run, join and replay spans and the RabbitMQ publish and process spans.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder, to chain further calls.</returns>
    public static TracerProviderBuilder AddJobDedupInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var name in JobDedupInstrumentation.ActivitySourceNames)
        {
            builder.AddSource(name);
        }

        return builder;
    }
}
