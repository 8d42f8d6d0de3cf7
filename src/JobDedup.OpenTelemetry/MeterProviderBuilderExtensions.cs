using JobDedup.OpenTelemetry;

namespace OpenTelemetry.Metrics;

/// <summary>Adds JobDedup's metrics to an OpenTelemetry meter provider.</summary>
public static class MeterProviderBuilderExtensions
{
    /// <summary>
    /// Subscribes to every JobDedup meter (<see cref="JobDedupInstrumentation.MeterNames"/>): the engine's counters and
    /// handler duration, the RabbitMQ settlements and the Redis cache counters. Durations are in seconds and carry
    /// their own bucket advice.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder, to chain further calls.</returns>
    public static MeterProviderBuilder AddJobDedupInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var name in JobDedupInstrumentation.MeterNames)
        {
            builder.AddMeter(name);
        }

        return builder;
    }
}
