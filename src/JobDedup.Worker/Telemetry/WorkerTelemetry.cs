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
            // Every JobDedup meter; the handler duration brings its own bucket advice, in seconds.
            metrics.AddJobDedupInstrumentation();
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
                .AddJobDedupInstrumentation()
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
