using JobDedup.RabbitMq;
using JobDedup.Worker.Http;
using JobDedup.Worker.Http.Stats;
using JobDedup.Worker.Logging;
using JobDedup.Worker.Pipelines;
using JobDedup.Worker.Settings;
using JobDedup.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;

namespace JobDedup.Worker;

/// <summary>Builds the worker's host from settings already read and validated: logging, the HTTP face, telemetry, the pipelines.</summary>
internal static class WorkerHost
{
    public static void Configure(HostApplicationBuilder builder, WorkerSettings settings)
    {
        builder.Logging.ClearProviders();
        if (settings.Logging.Json)
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = false;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            builder.Logging.AddConsole(o => o.FormatterName = WorkerConsoleFormatter.FormatterName)
                .AddConsoleFormatter<WorkerConsoleFormatter, ConsoleFormatterOptions>();
        }

        var services = builder.Services;
        services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);

        // Registered before the pipelines: hosted services start in order, so the probes answer while the consumers connect.
        AddHttpFace(services, settings);
        WorkerTelemetry.Register(services, settings);
        WorkerPipelines.Register(services, settings);
    }

    private static void AddHttpFace(IServiceCollection services, WorkerSettings settings)
    {
        var http = settings.Http;
        if (!http.Enabled)
        {
            return;
        }

        services.AddHealthChecks();
        services.TryAddSingleton(TimeProvider.System);
        if (http.Dashboard)
        {
            var names = settings.Pipelines.Keys.ToArray();
            services.AddSingleton(_ => new EngineMeterTap(names));
            services.AddSingleton(sp => new StatsSampler(
                [.. settings.Pipelines.Select(p => new SampledPipeline(
                    p.Key,
                    p.Value.Queue,
                    sp.GetRequiredKeyedService<IJobDeduplicator<RabbitMqMessage, byte[]>>(p.Key),
                    StatsSampler.Capacity(http)))],
                sp.GetRequiredService<EngineMeterTap>(),
                http,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<StatsSampler>>()));
        }

        services.AddSingleton(sp => new HttpFace(
            http,
            sp.GetRequiredService<HealthCheckService>(),
            http.Dashboard ? sp.GetRequiredService<StatsSampler>() : null,
            WorkerTelemetry.ServesPrometheus(settings) ? sp.GetRequiredService<MeterProvider>() : null,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<HttpFace>());
        if (http.Dashboard)
        {
            services.AddHostedService(sp => sp.GetRequiredService<StatsSampler>());
        }
    }
}
