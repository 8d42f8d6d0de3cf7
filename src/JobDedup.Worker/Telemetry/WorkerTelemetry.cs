using JobDedup.Worker.Settings;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace JobDedup.Worker.Telemetry;

/// <summary>
/// The worker's OpenTelemetry: the library's meter (engine and consumer instruments) for the Prometheus scrape on the
/// HTTP face, and metrics and traces over OTLP when an endpoint is set.
/// </summary>
internal static class WorkerTelemetry
{
    /// <summary>The path of the Prometheus scrape.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The service name the exported telemetry carries.</summary>
    public const string ServiceName = "jobdedup-worker";

    /// <summary>The engine's histogram of handler attempt durations, in seconds.</summary>
    public const string HandlerDuration = "jobdedup.handler.duration";

    /// <summary>Bucket bounds for the handler duration, in seconds, from 5 ms to 5 minutes.</summary>
    private static readonly double[] HandlerDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>Gets a value indicating whether <c>/metrics</c> is served.</summary>
    public static bool ServesPrometheus(WorkerSettings settings) => settings.Http.Enabled && settings.Http.Metrics;

    public static void Register(IServiceCollection services, WorkerSettings settings)
    {
        var prometheus = ServesPrometheus(settings);
        var otlp = settings.Otlp.Endpoint is { Length: > 0 } endpoint ? new Uri(endpoint) : null;
        if (!prometheus && otlp is null)
        {
            return;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(ServiceName));
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(JobDedupTelemetry.Name);

            // The duration is recorded in seconds; without these bounds every sample would fall in the first default bucket.
            metrics.AddView(HandlerDuration, new ExplicitBucketHistogramConfiguration { Boundaries = HandlerDurationBuckets });
            if (prometheus)
            {
                metrics.AddPrometheusExporter();
            }

            if (otlp is not null)
            {
                metrics.AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, otlp, settings.Otlp.Protocol, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.Otlp.ExportInterval.TotalMilliseconds;
                });
            }
        });

        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(JobDedupTelemetry.Name)
                .AddOtlpExporter(exporter => Configure(exporter, otlp, settings.Otlp.Protocol, "v1/traces")));
        }
    }

    private static void Configure(OtlpExporterOptions exporter, Uri endpoint, OtlpWireProtocol protocol, string signalPath)
    {
        if (protocol == OtlpWireProtocol.HttpProtobuf)
        {
            // Over HTTP the exporter posts to the address as given: add the signal's path to the collector's base address.
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(endpoint, endpoint.AbsolutePath.EndsWith('/') ? signalPath : $"{endpoint.AbsolutePath}/{signalPath}");
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = endpoint;
        }
    }
}
